// A deploy knows its release kind (`/deploy … --kind`, or from /release and /hotfix): the kind's approvals replace the
// environment's and the gate message says which rules apply and why; an unknown kind is refused with the list.
// Also: two /release at the same moment start one release; a double click on "Fix is pushed" ships once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { RELEASE_ACTIONS } from '../../blocks/release.js';
import { allText, CHANNEL, deployIdFrom, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';

let repo: TestRepo;
let bot: TestBot;
beforeAll(async () => {
  repo = makeRepo();
  repo.commit('feat: one', 'Ada');
  repo.tag('v1.0.0');
  bot = await startTestBot({
    redisUrl: (await startRedis()).url,
    configYaml: `
repository: ${repo.dir}
roles:
  leads: { label: Tech Lead, users: [U0LEAD] }
  seniors: { label: Senior Engineer, users: [U0SENIOR] }
  security: { label: Security Team, users: [U0SEC] }
releases: { pollInterval: 100ms }
releaseKinds:
  hotfix:
    for: [hotfix]
    why: critical fixes within 4 hours
    approvals: { required: 2, roles: [seniors, security], distinctRoles: true }
environments:
  - name: staging
    steps: [{ name: Deploy, run: [sh, -c, 'echo ok'] }]
  - name: production
    approvals: { required: 1, roles: [leads] }
    steps: [{ name: Deploy, run: [sh, -c, 'echo ok'] }]
`,
  });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
  repo?.remove();
});

describe('release kinds on deploys', () => {
  it('`--kind hotfix` takes the kind’s sign-offs instead of production’s, and the gate message says so and why', async () => {
    const res = await bot.command('/deploy', 'production main --kind hotfix');
    const id = deployIdFrom(String(res.json.text));
    const record = await bot.shipmate.deps.store.get(id);
    expect(record?.release).toEqual({ kind: 'hotfix' });
    const gate = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${id} `)), 5_000, 'the gate');
    const text = allText(gate);
    expect(text).toContain('rules (release kind `hotfix`, from --kind): approvals: 2 from Senior Engineer, Security Team on production');
    expect(text).toContain('Why: critical fixes within 4 hours');
    expect(text).toContain(`${ACTIONS.approve}:seniors`);
    expect(text).not.toContain(`${ACTIONS.approve}:leads`);
    // the Tech Lead's approval is not one this kind takes
    await bot.click(gate, `${ACTIONS.approve}:leads`, 'U0LEAD');
    await eventually(() => bot.slack.ephemerals('U0LEAD').length > 0, 5_000, 'the refusal');
    expect((await bot.shipmate.deps.store.get(id))?.gates?.approvals).toEqual([]);
    // without --kind, production's own rules
    const plain = deployIdFrom(String((await bot.command('/deploy', 'production v1.0.0')).json.text));
    const plainGate = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${plain} `)), 5_000, 'the plain gate');
    expect(allText(plainGate)).toContain(`${ACTIONS.approve}:leads`);
    expect(allText(plainGate)).not.toContain('release kind');
  });

  it('an unknown kind is refused with the kinds there are, and nothing is queued; --dry-run says the rules', async () => {
    const before = await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`);
    const res = await bot.command('/deploy', 'production main --kind urgent');
    expect(String(res.json.text)).toContain('`urgent` is not a release kind here; the kinds are `hotfix`');
    expect(await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`)).toBe(before);
    const dry = await bot.command('/deploy', 'production main --kind hotfix --dry-run');
    expect(String(dry.json.text)).toContain('Approvals: 2 from Senior Engineer, Security Team');
    expect(String(dry.json.text)).toContain('release kind `hotfix`');
  });
});

describe('double requests', () => {
  it('two /release at the same moment start one release', async () => {
    const [a, b] = await Promise.all([bot.command('/release', 'minor'), bot.command('/release', 'minor', 'U0BOB')]);
    const texts = [String(a.json.text), String(b.json.text)];
    expect(texts.filter((t) => t.includes('(minor) started'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('already under way'))).toHaveLength(1);
    await eventually(async () => (await bot.shipmate.deps.releases.store.latest())?.steps.branch?.status === 'done', 10_000, 'the branch');
    expect(repo.git('branch', '--list', 'release/*')).toBe('release/v1.1.0');
  });

  it('a double click on "Fix is pushed" ships the hotfix once', async () => {
    const res = await bot.command('/hotfix', '"payments fail"', 'U0ALICE');
    const question = { channel: CHANNEL, ts: '1700000000.000200', blocks: res.json.blocks as unknown[] } as StandinMessage;
    await bot.click(question, `${RELEASE_ACTIONS.hotfixCriterion}:down`, 'U0ALICE');
    const status = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes('Hotfix #') && allText(m).includes(RELEASE_ACTIONS.shipHotfix)), 10_000, 'the ship button');
    await Promise.all([bot.click(status, RELEASE_ACTIONS.shipHotfix, 'U0ALICE'), bot.click(status, RELEASE_ACTIONS.shipHotfix, 'U0ALICE')]);
    const r = await eventually(async () => {
      const x = await bot.shipmate.deps.releases.store.active('hotfix');
      return x?.steps['deploy:staging']?.deployId ? x : undefined;
    }, 10_000, 'the hotfix deploy');
    expect(r.shippedBy).toBe('U0ALICE');
    const deploys = [];
    for (let i = 1; i <= 20; i++) {
      const d = await bot.shipmate.deps.store.get(String(i));
      if (d?.release?.id === r.id && d.env === 'staging') deploys.push(d.id);
    }
    expect(deploys).toHaveLength(1);
  });
});
