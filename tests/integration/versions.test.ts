// Versions are commits: with `repository` in the config, /deploy resolves the ref to a commit before queueing
// anything, steps get {{sha}} and {{previousSha}}, the status message lists the commits going out, promotion
// and rollback go by commit, and /deploys says how far environments are apart. Against a real local repository.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { ConfigError, parseConfig } from '../../src/core/config.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { makeRepo } from '../helpers/git-repo.js';
import { CHANNEL, allText, deployIdFrom, eventually, headerText, type TestBot, useTestBot, waitForEnd } from '../helpers/harness.js';
import { clickInReply } from '../helpers/interactions.js';

const repo = makeRepo();
repo.commit('chore: initial commit', 'Ada Lovelace');
const v100 = repo.commit('feat: first release', 'Ada Lovelace');
repo.tag('v1.0.0', { annotated: true });
// Twelve commits after v1.0.0: the status message lists ten and counts the rest.
for (let i = 1; i <= 11; i++) repo.commit(`fix: bug number ${i}`, i % 2 ? 'Bo Builder' : 'Cy Coder');
const main = repo.commit('feat: <b>new</b> dashboard & more', 'Cy Coder');
afterAll(() => repo.remove());

const STEP = `[node, -e, "console.log('sha=' + process.argv[1] + ' short=' + process.argv[2] + ' prev=' + process.argv[3] + ' version=' + process.argv[4])", "{{sha}}", "{{shortSha}}", "{{previousSha}}", "{{version}}"]`;
const useBot = useTestBot({
  configYaml: `
repository: { url: "${repo.dir}", webUrl: "https://git.example.com/team/app" }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    steps:
      - { name: Deploy, run: ${STEP} }
  - name: production
    aliases: [prod]
    requires: { succeededOn: staging }
    steps:
      - { name: Deploy, run: ${STEP} }
`,
});
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const short = (sha: string) => sha.slice(0, 7);
async function deploy(text: string, user = 'U0ALICE') {
  const res = await bot.command('/deploy', text, user);
  const record = await waitForEnd(bot, deployIdFrom(res.json.text ?? ''));
  expect(record.status).toBe('succeeded');
  return { reply: res.json.text ?? '', record };
}
/** The status message once it shows the deploy's final state, and its step output. */
async function finished(id: string) {
  const message = await eventually(() => {
    const m = bot.statusMessage(id);
    return m && allText(m).includes('Succeeded') ? m : undefined;
  });
  const output = await eventually(() => bot.slack.thread(CHANNEL, message.ts).slice(1).map(allText).join('\n') || undefined);
  return { message, text: allText(message), output };
}

describe('versions are commits', () => {
  it('resolves a tag to its commit before queueing: record, reply, status message and {{sha}} all name it', async () => {
    const { reply, record } = await deploy('staging v1.0.0');
    expect(record).toMatchObject({ ref: 'v1.0.0', version: 'v1.0.0', tag: 'v1.0.0', sha: v100 });
    expect(record.previousSha).toBeUndefined();
    expect(reply).toContain(`Deploying \`v1.0.0\` (${short(v100)}) to *staging*`);
    const { message, text, output } = await finished(record.id);
    expect(headerText(message)).toContain(`Deploy #${record.id} · v1.0.0 (${short(v100)}) → staging`);
    expect(output).toContain(`sha=${v100} short=${short(v100)} prev= version=v1.0.0`);
    // a first deploy lists the latest commits up to it
    expect(text).toContain('the latest commits (first deploy here)');
    expect(text).toContain('feat: first release');
    const trail = (await readAudit(bot.shipmate.deps.redis, bot.prefix)).find((e) => e.action === 'deploy.requested');
    expect(trail?.detail).toBe(`v1.0.0 ${v100}`);
  });

  it('gives steps {{previousSha}} and lists the commits going out, with authors and links, capped with "and N more"', async () => {
    const { record } = await deploy('staging');
    expect(record).toMatchObject({ ref: 'main', version: 'main', sha: main, previousSha: v100, commitCount: 12 });
    expect(record.tag).toBeUndefined();
    const { text, output } = await finished(record.id);
    expect(output).toContain(`sha=${main} short=${short(main)} prev=${v100} version=main`);
    expect(text).toContain(`*Changes* · 12 commits since \`${short(v100)}\``);
    expect(text).toContain(`<https://git.example.com/team/app/commit/${main}|\`${short(main)}\`> feat: &lt;b&gt;new&lt;/b&gt; dashboard &amp; more — Cy Coder`);
    expect(text).toContain('fix: bug number 11 — Bo Builder');
    expect(text).not.toContain('fix: bug number 1 —');
    expect(text).toContain('…and 2 more');
  });

  it('refuses an unknown ref privately with the nearest branch and tag names, and queues nothing', async () => {
    const before = await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`);
    const res = await bot.command('/deploy', 'staging v1.0.1', 'U0ALICE');
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toContain('`v1.0.1` is not a branch, tag or commit in');
    expect(res.json.text).toContain('Nearest: `v1.0.0`');
    const typo = await bot.command('/deploy', 'staging mian', 'U0ALICE');
    expect(typo.json.text).toContain('Nearest: `main`');
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
    expect(await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`)).toBe(before);
  });

  it('deploys a short SHA as that commit', async () => {
    const fix = repo.sha('main~1');
    const { record } = await deploy(`staging ${short(fix)}`);
    expect(record).toMatchObject({ ref: short(fix), sha: fix, previousSha: main });
    expect(headerText((await finished(record.id)).message)).toContain(`· ${short(fix)} → staging`);
    await deploy('staging main');
  });

  it('promotes by commit: what succeeded on staging passes, and /deploys says how far apart the environments are', async () => {
    const { record } = await deploy('prod v1.0.0');
    expect(record.sha).toBe(v100);
    const res = await bot.command('/deploys', '', 'U0ALICE');
    const overview = JSON.stringify(res.json.blocks);
    expect(overview).toContain(`\`main\` (${short(main)})`);
    expect(overview).toContain('staging is 12 commits ahead of production');
    expect(res.json.text).toContain('production: v1.0.0 (');
  });

  it('refuses a branch that has moved since it succeeded on staging; nothing is queued', async () => {
    repo.branch('staging', 'main');
    await deploy('staging staging');
    const promoted = await deploy('prod staging');
    expect(promoted.record.sha).toBe(main);
    // the staging branch moves on: the same name is now a commit staging never ran
    repo.checkout('staging');
    const moved = repo.commit('feat: not yet on staging', 'Dana Dev');
    repo.checkout('main');
    const before = await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`);
    const res = await bot.command('/deploy', 'prod staging', 'U0ALICE');
    expect(res.json.text).toContain(`Commit ${short(moved)} (\`staging\`) has not succeeded on *staging* yet`);
    expect(res.json.text).toContain(`\`staging\` has moved since: staging runs ${short(main)}, \`staging\` is now ${short(moved)}`);
    expect(await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`)).toBe(before);
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
  });

  it('rolls production back to its previous good commit, not to what a branch points at now', async () => {
    const ask = await bot.command('/rollback', 'prod', 'U0BOB');
    expect(ask.json.text).toBe(`Roll back production from staging (${short(main)}) to v1.0.0 (${short(v100)})?`);
    await clickInReply(bot, ask.json, ACTIONS.rollbackConfirm, 'U0BOB');
    const answer = await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('Rolling production back')));
    const record = await waitForEnd(bot, deployIdFrom(answer.text ?? ''));
    expect(record).toMatchObject({ status: 'succeeded', kind: 'rollback', version: 'v1.0.0', sha: v100, previousSha: main, rollbackFrom: 'staging' });
    expect((await bot.shipmate.deps.store.envState('production'))?.sha).toBe(v100);
    const message = await eventually(() => bot.slack.messages().find((m) => headerText(m).includes(`Rollback #${record.id} · production back to v1.0.0 (${short(v100)})`) && allText(m).includes('Succeeded')));
    const output = await eventually(() => bot.slack.thread(CHANNEL, message.ts).slice(1).map(allText).join('\n') || undefined);
    expect(output).toContain(`sha=${v100} short=${short(v100)} prev=${main} version=v1.0.0`);
    // a named version that once succeeded there, by its SHA
    const named = await bot.command('/rollback', `prod ${short(main)}`, 'U0BOB');
    expect(named.json.text).toBe(`Roll back production from v1.0.0 (${short(v100)}) to staging (${short(main)})?`);
    const never = await bot.command('/rollback', `prod ${short(repo.sha('main~3'))}`, 'U0BOB');
    expect(never.json.text).toContain('never succeeded on production');
  });
});

describe('commit variables in the config', () => {
  it('need a repository: {{sha}} without one stops start-up with the path and the reason', () => {
    const yaml = 'environments:\n  - name: dev\n    steps:\n      - { name: Deploy, run: [echo, "{{sha}}"] }\n';
    expect(() => parseConfig(yaml, 'x.yml', {})).toThrow(ConfigError);
    expect(() => parseConfig(yaml, 'x.yml', {})).toThrow(/environments\.0\.steps\.0\.run\.1: \{\{sha\}\} needs `repository`/);
    expect(parseConfig(`repository: acme/app\n${yaml}`, 'x.yml', {}).repository).toBe('acme/app');
    expect(parseConfig(yaml.replace('- name: dev', '- name: dev\n    repository: ./app'), 'x.yml', {}).environments[0]?.repository).toBe('./app');
    expect(() => parseConfig(`repository: "-oProxyCommand=x"\n${yaml}`, 'x.yml', {})).toThrow(/repository: "-oProxyCommand=x" starts with "-"/);
  });
});
