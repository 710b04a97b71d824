// The four seed teams' gates, run from their examples/ configs through the real receiver.
// Their automatic checks read GitHub: the local GitHub stand-in (answers validated against GitHub's REST
// description) holds one commit, tagged with every version these tests deploy, whose check runs pass when
// their names are listed and fail otherwise. Production is reached the way the teams reach it: by running the
// earlier environments first. Their steps call tools this machine does not have (databricks, pytest, npm, docker,
// kubectl, git against their origin): small doubles on PATH stand in for them, and the health checks' URLs (the
// examples read them from the environment) point at a local server that answers healthy. Everything else is
// Shipmate's real code.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { parseConfig } from '../../src/core/config.js';
import { readAudit, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, CHANNEL, allText, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { standinSettings, startGithubStandin, type GithubStandin } from '../helpers/github-standin.js';

/** The CI jobs the examples' checks name; those not listed as passing are red. */
const CI_JOBS = ['test-backend', 'test-frontend', 'build', 'run-list', 'backend-tests', 'code-quality', 'security-scan', 'frontend-tests'];
const VERSIONS = ['v1.4.0', 'v2', 'v2.0.0', 'v2.1.0', 'v2.2.0', 'v3.0.0', 'v3.0.1'];

let redisUrl: string;
let slack: SlackStandin;
let github: GithubStandin | undefined;
let bot: TestBot | undefined;
/** The commit every version in these tests resolves to. */
let releaseSha: string;
let tools: string;
let health: Server;
/** What the examples read from the environment: the doubles first on PATH, health URLs on the local server, a checkout. */
let env: Record<string, string>;

/** The programs the examples' steps run that this machine lacks; each double prints its arguments, notes them in calls.log and succeeds. */
const TOOL_DOUBLES = ['databricks', 'pytest', 'npm', 'pip', 'docker', 'kubectl', 'git'];

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  tools = mkdtempSync(join(tmpdir(), 'shipmate-seed-tools-'));
  mkdirSync(join(tools, 'bin'));
  for (const dir of ['checkout/frontend', 'checkout/backend']) mkdirSync(join(tools, dir), { recursive: true });
  for (const name of TOOL_DOUBLES) {
    writeFileSync(join(tools, 'bin', name), `#!/bin/sh\necho "${name} $*" >> '${join(tools, 'calls.log')}'\necho "${name} (test double) $*"\n`);
    chmodSync(join(tools, 'bin', name), 0o755);
  }
  health = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}'));
  await new Promise<void>((ok) => health.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
  env = { PATH: `${join(tools, 'bin')}:${process.env.PATH ?? ''}`, ACADEMICLAB_CHECKOUT: join(tools, 'checkout'), ONTOS_CHECKOUT: join(tools, 'checkout'), FLOWSPARK_CHECKOUT: join(tools, 'checkout'), SARVANOM_CHECKOUT: join(tools, 'checkout') };
  for (const name of ['ONTOS_DEV_URL', 'ONTOS_STAGING_URL', 'ONTOS_PROD_URL', 'SARVANOM_DEV_URL', 'SARVANOM_STAGING_URL', 'SARVANOM_PROD_URL', 'ACADEMICLAB_STAGING_URL', 'ACADEMICLAB_PROD_URL', 'FLOWSPARK_STAGING_URL', 'FLOWSPARK_PROD_URL']) env[name] = url;
});
afterEach(async () => {
  await bot?.stop();
  await slack?.close();
  expect(github?.problems ?? []).toEqual([]);
  await github?.stop();
  bot = undefined;
  github = undefined;
});
afterAll(async () => {
  await new Promise((ok) => health?.close(ok));
  rmSync(tools, { recursive: true, force: true });
  await stopRedis();
});

/** A fresh Slack stand-in, GitHub stand-in and bot (own key prefix) per test: deploy numbers start at #1 each time. */
/** Added to the bot's clock (deps.now): moves time past a soak period without waiting. */
let clockAhead = 0;

async function start(file: string, passing: string): Promise<TestBot> {
  clockAhead = 0;
  slack = await startSlackStandin({ token: BOT_TOKEN });
  const yaml = readFileSync(`examples/${file}.yml`, 'utf8');
  const repository = parseConfig(yaml, file, {}).repository;
  const [owner, repo] = (typeof repository === 'string' ? repository : '').split('/');
  github = await startGithubStandin({ owner, repo });
  const sha = github.commit('main', 'feat: the release');
  releaseSha = sha;
  writeFileSync(join(tools, 'calls.log'), '');
  for (const v of VERSIONS) github.tags.set(v, sha);
  const green = passing.split(' ').filter(Boolean);
  github.checkRuns.set(sha, CI_JOBS.map((name) => ({ name, status: 'completed' as const, conclusion: green.includes(name) ? ('success' as const) : ('failure' as const) })).filter((c) => c.conclusion === 'success' || file !== 'academiclab'));
  bot = await startTestBot({ configYaml: yaml, redisUrl, slack, github: standinSettings(github), env, now: () => Date.now() + clockAhead });
  return bot;
}

/** What the tool doubles were run with since the test started, one command a line. */
const calls = () => readFileSync(join(tools, 'calls.log'), 'utf8').trim().split('\n');

const idFrom = (text: string) => /[Dd]eploy #(\d+)/.exec(text)?.[1] ?? '';

async function rec(b: TestBot, id: string): Promise<DeployRecord> {
  return (await b.shipmate.deps.store.get(id))!;
}

function gate(b: TestBot, id: string) {
  return eventually(() => b.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${id} `)), 10_000, `gate message #${id}`);
}

/** Ticks every manual item of the deploy's checklist, one click each, as `user`. */
async function tickAll(b: TestBot, id: string, user: string): Promise<void> {
  const r = await rec(b, id);
  const manual = b.config.environments.find((e) => e.name === r.env)!.checklist.flatMap((s) => s.items).filter((i) => !i.check);
  for (const item of manual) {
    const msg = await gate(b, id);
    await b.tick(msg, item.id, user);
    await eventually(async () => (await rec(b, id)).gates?.items[item.id]?.checked, 5000, `tick ${item.id}`);
  }
}

async function approve(b: TestBot, id: string, user: string, role: string): Promise<void> {
  const msg = await gate(b, id);
  await b.click(msg, `${ACTIONS.approve}:${role}`, user, `${id}:${role}`);
}

async function request(b: TestBot, text: string, user: string): Promise<{ id: string; reply: string }> {
  const res = await b.command('/deploy', text, user);
  return { id: idFrom(res.json.text), reply: res.json.text as string };
}

/** A /deploy that must be taken: a refusal fails the test with Shipmate's reply. */
async function queue(b: TestBot, text: string, user: string): Promise<{ id: string; reply: string }> {
  const out = await request(b, text, user);
  if (!out.id) throw new Error(`/deploy ${text} was refused: ${out.reply}`);
  return out;
}

/** Deploys `version` to `env` as the team would (its approvals given), and waits for it to succeed. */
async function ship(b: TestBot, env: string, version: string, user: string, approvals: Array<[user: string, role: string]> = []): Promise<string> {
  const { id } = await queue(b, `${env} ${version}`, user);
  for (const [approver, role] of approvals) await approve(b, id, approver, role);
  const done = await waitForEnd(b, id, 30_000);
  expect(done.status, `${env} ${version}: ${done.error ?? ''}`).toBe('succeeded');
  return id;
}

describe('Ontos ML Workbench', () => {
  it('production: the full checklist and all four sign-off roles, after staging', async () => {
    const b = await start('ontos', 'test-backend test-frontend');
    expect((await request(b, 'prod v1.4.0', 'U0ONTOSENG1')).reply).toContain('has not succeeded on *staging* yet');
    await ship(b, 'dev', 'v1.4.0', 'U0ONTOSENG1');
    // The tag's commit is checked out before the bundle is deployed from it.
    expect(calls().filter((c) => /^(git|databricks) /.test(c))).toEqual([`git fetch origin ${releaseSha}`, `git checkout --detach ${releaseSha}`, 'databricks bundle deploy -t dev']);
    await ship(b, 'staging', 'v1.4.0', 'U0ONTOSENG1', [['U0ONTOSTL1', 'tech_lead']]);
    const { id, reply } = await queue(b, 'prod v1.4.0', 'U0ONTOSENG1');
    expect(reply).toContain('waiting for its gates');
    const text = allText(await gate(b, id));
    for (const s of ['Infrastructure', 'Security', 'Code Quality', 'Configuration', 'Documentation']) expect(text).toContain(`*${s}*`);
    expect(text).toContain('Sign-offs* — 0 of 4');
    await eventually(async () => Object.values((await rec(b, id)).gates!.items).filter((s) => s.auto && s.checked).length === 1, 10_000, 'the automatic CI check');
    await tickAll(b, id, 'U0ONTOSENG2');
    for (const [user, role] of [['U0ONTOSTL1', 'tech_lead'], ['U0ONTOSPO1', 'product_owner'], ['U0ONTOSSEC1', 'security_lead']] as const) await approve(b, id, user, role);
    await eventually(async () => (await rec(b, id)).gates?.approvals.length === 3);
    expect((await rec(b, id)).status).toBe('pending'); // three of four roles is not enough
    await approve(b, id, 'U0ONTOSOPS1', 'ops_lead');
    const started = await eventually(async () => ((await rec(b, id)).status !== 'pending' ? rec(b, id) : undefined));
    expect(['queued', 'running', 'failed', 'succeeded']).toContain(started.status);
    expect(started.gates?.approvals.map((a) => a.role).sort()).toEqual(['ops_lead', 'product_owner', 'security_lead', 'tech_lead']);
  }, 60_000);

  it('staging: one tech lead approval, then a product team sign-off from the user group', async () => {
    const b = await start('ontos', '');
    slack.addUserGroup({ id: 'S0ONTOSPRODUCT', handle: 'product-team', users: ['U0ONTOSQA01'] });
    expect((await request(b, 'staging v2.0.0', 'U0ONTOSENG1')).reply).toContain('has not succeeded on *dev* yet');
    await ship(b, 'dev', 'v2.0.0', 'U0ONTOSENG1');
    const id = await ship(b, 'staging', 'v2.0.0', 'U0ONTOSENG1', [['U0ONTOSTL1', 'tech_lead']]);
    await eventually(() => {
      const msg = b.statusMessage(id);
      return msg && allText(msg).includes(ACTIONS.postDeploySignoff) ? msg : undefined;
    }, 5_000, 'the sign-off button on the status message');
    await expect(b.shipmate.deps.gates.postDeploySignoff(id, 'U0ONTOSENG2')).rejects.toThrow(/Only Product team sign-off/);
    const signed = await b.shipmate.deps.gates.postDeploySignoff(id, 'U0ONTOSQA01'); // member through the user group
    expect(signed.gates?.postDeploySignoff).toMatchObject({ user: 'U0ONTOSQA01', role: 'product_team' });
    expect((await readAudit(b.shipmate.deps.redis, b.prefix)).some((e) => e.action === 'signoff.given' && e.user === 'U0ONTOSQA01')).toBe(true);
  }, 60_000);
});

describe('SarvanOM', () => {
  it('production needs its checklist and two approvals, never the requester’s own', async () => {
    const b = await start('sarvanom', 'build');
    await ship(b, 'staging', 'v2.1.0', 'U0SARVENG1', [['U0SARVENG2', 'engineers']]);
    // The image is built from the tag's commit, tagged, pushed and applied by its SHA.
    const image = `registry.example.com/sarvanom:${releaseSha}`;
    expect(calls().filter((c) => /^(docker|kubectl set)/.test(c))).toEqual([`docker build -t ${image} .`, `docker push ${image}`, `kubectl set image deployment/sarvanom sarvanom=${image} -n staging`]);
    const { id } = await queue(b, 'prod v2.1.0', 'U0SARVENG1');
    await tickAll(b, id, 'U0SARVENG2');
    await approve(b, id, 'U0SARVENG1', 'engineers');
    await eventually(() => b.slack.ephemerals('U0SARVENG1').find((m) => (m.text ?? '').includes('separation of duties')));
    await approve(b, id, 'U0SARVENG2', 'engineers');
    await eventually(async () => (await rec(b, id)).gates?.approvals.length === 1);
    expect((await rec(b, id)).status).toBe('pending');
    await approve(b, id, 'U0SARVSEC1', 'security_team');
    await eventually(async () => (await rec(b, id)).status !== 'pending', 10_000, 'the deploy to start');
  }, 60_000);
});

describe('SarvanOM sensitive changes', () => {
  it('a change marked --sensitive must include the security team among its two approvals', async () => {
    const b = await start('sarvanom', 'build');
    await ship(b, 'staging', 'v2.2.0', 'U0SARVENG1', [['U0SARVENG2', 'engineers']]);
    const dry = await b.command('/deploy', 'prod v2.2.0 --sensitive --dry-run', 'U0SARVENG1');
    expect(dry.json.text).toContain('Must include: Security Team (marked --sensitive)');
    const { id } = await queue(b, 'prod v2.2.0 --sensitive', 'U0SARVENG1');
    expect(allText(await gate(b, id))).toContain('Must include Security Team — marked as a sensitive change');
    await tickAll(b, id, 'U0SARVENG2');
    await approve(b, id, 'U0SARVENG2', 'engineers');
    await eventually(async () => (await rec(b, id)).gates?.approvals.length === 1);
    // the last approval is reserved for the security team
    await approve(b, id, 'U0SARVENG3', 'engineers');
    await eventually(() => b.slack.ephemerals('U0SARVENG3').find((m) => (m.text ?? '').includes('must come from Security Team (a sensitive change)')));
    await eventually(async () => !allText(await gate(b, id)).includes(`${ACTIONS.approve}:engineers`), 5_000, 'the engineers button gone');
    expect((await rec(b, id)).status).toBe('pending');
    await approve(b, id, 'U0SARVSEC1', 'security_team');
    await eventually(async () => (await rec(b, id)).status !== 'pending', 10_000, 'the deploy to start');
  }, 60_000);

  it('--sensitive is refused where the environment names no sensitive sign-off', async () => {
    const b = await start('sarvanom', 'build');
    const res = await b.command('/deploy', 'staging v2.2.0 --sensitive', 'U0SARVENG1');
    expect(res.json.text).toContain('`--sensitive` changes nothing on staging');
  });
});

describe('Academic Lab', () => {
  it('staging takes one approval; production two, from different roles, after staging', async () => {
    const b = await start('academiclab', 'run-list');
    await ship(b, 'staging', 'v2', 'U0ALABDEV1', [['U0ALABDEV2', 'maintainers']]); // one approval is enough
    expect(calls()).toContain(`git merge --ff-only ${releaseSha}`); // the commit v2 names, not origin/v2
    expect((await request(b, 'prod v2', 'U0ALABDEV1')).reply).toContain('production takes versions after 3 days there'); // student testing
    clockAhead = 3 * 86_400_000;
    const prod = await queue(b, 'prod v2', 'U0ALABDEV1');
    await tickAll(b, prod.id, 'U0ALABDEV3');
    await approve(b, prod.id, 'U0ALABDEV2', 'maintainers');
    await eventually(async () => (await rec(b, prod.id)).gates?.approvals.length === 1);
    await approve(b, prod.id, 'U0ALABDEV3', 'maintainers');
    await eventually(() => b.slack.ephemerals('U0ALABDEV3').find((m) => (m.text ?? '').includes('already signed')));
    expect((await rec(b, prod.id)).status).toBe('pending');
    await approve(b, prod.id, 'U0ALABPI01', 'code_owners');
    await eventually(async () => (await rec(b, prod.id)).status !== 'pending', 10_000, 'production to start');
  }, 60_000);
});

describe('FlowSpark AI', () => {
  it('production only after staging; staging starts by itself once CI is green', async () => {
    const b = await start('flowspark', 'backend-tests code-quality security-scan frontend-tests');
    expect((await request(b, 'prod v3.0.0', 'U0FLOWENG1')).reply).toContain('has not succeeded on *staging* yet');
    const { id } = await queue(b, 'staging v3.0.0', 'U0FLOWENG1');
    await eventually(async () => (await rec(b, id)).status !== 'pending', 15_000, 'staging to start on green CI');
    await eventually(() => calls().includes(`kubectl set image deployment/flowspark-backend backend=flowspark/backend:${releaseSha} -n staging`), 15_000, 'the image of the commit set');
    expect(Object.values((await rec(b, id)).gates!.items).every((s) => s.checked && s.by === 'shipmate')).toBe(true);
  }, 60_000);

  it('a red CI job keeps staging waiting, with the reason', async () => {
    const b = await start('flowspark', 'backend-tests code-quality frontend-tests');
    const { id } = await queue(b, 'staging v3.0.1', 'U0FLOWENG1');
    const msg = await eventually(async () => {
      const m = await gate(b, id);
      return allText(m).includes('security-scan: failure on') ? m : undefined;
    }, 15_000, 'the failed check on the gate message');
    expect(allText(msg)).toContain(':x: security-scan green');
    expect((await rec(b, id)).status).toBe('pending');
  }, 30_000);
});
