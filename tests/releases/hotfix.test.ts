// /hotfix end to end (real git repository, real Redis, the real receiver, the Slack stand-in): the criteria
// question (none → the normal process and why), a hotfix branch from the commit production runs, staging skipped as
// its kind allows (said in the deploy log), the kind's approvals on production with its rules said in the gate
// message, then the patch tag, merge back into main and develop, post-hotfix tasks and the post-mortem reminder;
// and the deadline passing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { RELEASE_ACTIONS } from '../../blocks/release.js';
import { followUpJobId } from '../../src/notify/follow-ups.js';
import type { ReleaseRecord } from '../../src/releases/release-store.js';
import { allText, CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';

function yaml(repo: string, deadline = '4h'): string {
  return `
repository: ${repo}
roles:
  seniors: { label: Senior Engineer, users: [U0SENIOR] }
  security: { label: Security Team, users: [U0SEC] }
channels: { deployLog: C0DEPLOYLOG, announcements: C0ANNOUNCE }
releases:
  pollInterval: 100ms
  mergeBackTo: [main, develop]
releaseKinds:
  hotfix:
    for: [hotfix]
    why: "SarvanOM: critical fixes reach production within 4 hours"
    approvals: { required: 2, roles: [seniors, security], distinctRoles: true }
    maySkip: [staging]
    deadline: ${deadline}
environments:
  - name: dev
    steps:
      - name: Deploy
        run: [sh, -c, 'echo {{sha}}']
  - name: staging
    steps:
      - name: Deploy
        run: [sh, -c, 'echo {{sha}}']
  - name: production
    requires: { succeededOn: staging }
    steps:
      - name: Deploy
        run: [sh, -c, 'echo {{sha}}']
`;
}

let redisUrl: string;
beforeAll(async () => {
  redisUrl = (await startRedis()).url;
});
afterAll(async () => {
  await stopRedis();
});

async function until(bot: TestBot, pred: (r: ReleaseRecord) => boolean, what: string): Promise<ReleaseRecord> {
  return eventually(async () => {
    const r = await bot.shipmate.deps.releases.store.latest();
    return r && pred(r) ? r : undefined;
  }, 20_000, what);
}

/** The private question /hotfix answers with, as a message the harness can click in. */
async function ask(bot: TestBot, text: string): Promise<StandinMessage> {
  const res = await bot.command('/hotfix', text, 'U0ALICE');
  expect(res.json.response_type).toBe('ephemeral');
  return { channel: CHANNEL, ts: '1700000000.000100', text: String(res.json.text), blocks: res.json.blocks as unknown[] } as StandinMessage;
}

describe('/hotfix', () => {
  let repo: TestRepo;
  let bot: TestBot;
  let prodSha: string;
  beforeAll(async () => {
    repo = makeRepo();
    repo.commit('feat: first', 'Ada');
    prodSha = repo.commit('fix: second', 'Ada');
    repo.tag('v1.2.0', { annotated: true });
    repo.commit('feat: unreleased work on main', 'Bo');
    repo.branch('develop');
    bot = await startTestBot({ configYaml: yaml(repo.dir), redisUrl });
    // production runs v1.2.0
    await bot.shipmate.deps.store.setEnvState({ env: 'production', version: 'v1.2.0', ref: 'v1.2.0', sha: prodSha, tag: 'v1.2.0', deployId: '0', deployedBy: 'U0ALICE', at: Date.now() });
  });
  afterAll(async () => {
    await bot?.stop();
    repo?.remove();
  });

  it('meeting no criterion, it says to follow the normal release process and why, and creates nothing', async () => {
    const question = await ask(bot, '"typo in the footer"');
    expect(allText(question)).toContain('Service is completely down');
    expect(allText(question)).toContain('None of these');
    await bot.click(question, `${RELEASE_ACTIONS.hotfixCriterion}:none`, 'U0ALICE');
    const reply = await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => (m.text ?? '').includes('No hotfix for')), 5_000, 'the refusal');
    expect(reply.text).toContain('Follow the normal release process');
    expect(reply.text).toContain('Why:');
    expect(await bot.shipmate.deps.releases.store.latest()).toBeUndefined();
    expect(repo.git('branch', '--list', 'hotfix/*')).toBe('');
    // the same answer clicked again changes nothing
    await bot.click(question, `${RELEASE_ACTIONS.hotfixCriterion}:down`, 'U0ALICE');
    await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => (m.text ?? '').includes('expired or was answered')), 5_000, 'the second answer refused');
    expect(await bot.shipmate.deps.releases.store.latest()).toBeUndefined();
  });

  it('--skip-staging is refused where the kind does not allow it; bad input gets the usage', async () => {
    const empty = await bot.command('/hotfix', '""', 'U0ALICE');
    expect(String(empty.json.text)).toContain('Say what is broken');
    const flag = await bot.command('/hotfix', '"x y z" --force', 'U0ALICE');
    expect(String(flag.json.text)).toContain('Unknown option');
  });

  it('branches from production, skips staging as the kind allows, takes the kind’s sign-offs, then tags the patch, merges back and reminds of the post-mortem', async () => {
    const question = await ask(bot, '"login returns 500" --skip-staging');
    await bot.click(question, `${RELEASE_ACTIONS.hotfixCriterion}:critical`, 'U0ALICE');
    let r = await until(bot, (x) => x.steps.branch?.status === 'done', 'the hotfix branch');
    expect(r).toMatchObject({ type: 'hotfix', branch: 'hotfix/login-returns-500', baseSha: prodSha, tag: 'v1.2.1', criterion: 'Critical functionality broken for all users', skip: ['staging'], kind: 'hotfix' });
    expect(repo.sha('hotfix/login-returns-500')).toBe(prodSha);
    // the countdown is shown
    const status = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Hotfix #${r.id}`) && allText(m).includes(RELEASE_ACTIONS.shipHotfix)), 5_000, 'the status message with its ship button');
    expect(allText(status)).toMatch(/Deadline:\*.*— 3 h 59 min left/);
    expect(allText(status)).toContain('SarvanOM: critical fixes reach production within 4 hours');

    // the fix lands on the branch; then someone says so
    repo.checkout('hotfix/login-returns-500');
    const fix = repo.commit('fix(auth): return 401 instead of 500 on expired sessions', 'Tara');
    repo.checkout('main');
    await bot.click(status, RELEASE_ACTIONS.shipHotfix, 'U0ALICE');
    r = await until(bot, (x) => x.steps['deploy:production']?.deployId !== undefined, 'the production deploy');
    expect(r.sha).toBe(fix);
    expect(r.steps['deploy:dev']?.status).toBe('done');
    expect(r.steps['deploy:staging']).toMatchObject({ status: 'skipped' });
    // the skip is said in the deploy log
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => (m.text ?? '').includes('*staging* skipped') && (m.text ?? '').includes('maySkip')), 5_000, 'the skip in the deploy log');
    // production takes the hotfix kind's sign-offs (not production's own: it has none), and says which rules apply and why
    const prodId = r.steps['deploy:production']?.deployId ?? '';
    const deploy = await bot.shipmate.deps.store.get(prodId);
    expect(deploy).toMatchObject({ status: 'pending', release: { type: 'hotfix', kind: 'hotfix' } });
    const gate = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${prodId} `) && allText(m).includes(ACTIONS.approve)), 5_000, 'the gate');
    expect(allText(gate)).toContain('Hotfix release* rules (release kind `hotfix`, from /hotfix)');
    expect(allText(gate)).toContain('approvals: 2 from Senior Engineer, Security Team');
    expect(allText(gate)).toContain('Why: SarvanOM');
    await bot.click(gate, `${ACTIONS.approve}:seniors`, 'U0SENIOR');
    await eventually(async () => (await bot.shipmate.deps.store.get(prodId))?.gates?.approvals.length === 1, 5_000, 'the first sign-off');
    const gate2 = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${prodId} `) && allText(m).includes(`${ACTIONS.approve}:security`)), 5_000, 'the gate again');
    await bot.click(gate2, `${ACTIONS.approve}:security`, 'U0SEC');

    r = await until(bot, (x) => x.status === 'succeeded' || x.status === 'failed', 'the hotfix to end');
    expect(r.status).toBe('succeeded');
    expect(repo.git('cat-file', '-t', 'v1.2.1')).toBe('tag');
    expect(repo.sha('v1.2.1')).toBe(fix);
    expect(repo.git('merge-base', '--is-ancestor', fix, 'main')).toBe('');
    expect(repo.git('merge-base', '--is-ancestor', fix, 'develop')).toBe('');
    expect(r.notes).toContain('*auth:* return 401 instead of 500 on expired sessions');
    const tasks = await eventually(() => bot.slack.messages(CHANNEL).find((m) => (m.text ?? '').includes('After the hotfix')), 5_000, 'the post-hotfix tasks');
    expect(tasks.text).toContain('Post-mortem');
    expect(tasks.text).toContain('regression test');
    const reminder = await bot.shipmate.deps.notifier['d'].followUps.queue.getJob(followUpJobId(prodId, 10));
    expect(reminder?.data.kind).toBe('postMortem');
    await eventually(() => bot.slack.messages('C0ANNOUNCE').find((m) => (m.text ?? '').includes('Hotfix v1.2.1 is out')), 5_000, 'the announcement');
  });
});

describe('the hotfix deadline', () => {
  it('is shown counting down, and passing it is said once while the hotfix goes on', async () => {
    const repo = makeRepo();
    repo.commit('feat: first', 'Ada');
    repo.tag('v3.0.0');
    const bot = await startTestBot({ configYaml: yaml(repo.dir, '1s'), redisUrl });
    try {
      const question = await ask(bot, '"checkout is down"');
      await bot.click(question, `${RELEASE_ACTIONS.hotfixCriterion}:down`, 'U0ALICE');
      const r = await until(bot, (x) => x.overdue === true, 'the deadline to pass');
      expect(r.status).toBe('running');
      const said = await eventually(() => bot.slack.messages(CHANNEL).find((m) => (m.text ?? '').includes('the deadline of')), 5_000, 'the overdue message');
      expect(said.text).toContain('is still waiting for the fix');
      expect(said.text).toContain('<@U0ALICE>');
      await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Hotfix #${r.id}`) && allText(m).includes('overdue by')), 5_000, 'the status message overdue');
      await new Promise((ok) => setTimeout(ok, 400));
      expect(bot.slack.messages(CHANNEL).filter((m) => (m.text ?? '').includes('the deadline of'))).toHaveLength(1);
    } finally {
      await bot.stop();
      repo.remove();
    }
  });
});
