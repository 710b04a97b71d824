// GitHub features end to end, against the real receiver, real Redis and the local GitHub stand-in (whose answers
// follow GitHub's REST description): Deployments kept in step (rollback included), github-workflow steps that
// succeed and fail, auto-deploy webhooks (good, bad signature, redelivery), GitHub down or rate limited, checklist
// items ticked from GitHub, and what happens without a token.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findEnvironment } from '../../src/deploys/environments.js';
import { GITHUB_OFF } from '../../src/github/client.js';
import { allText, deployIdFrom, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { standinSettings, startGithubStandin, type GithubStandin } from '../helpers/github-standin.js';

const WEBHOOK_SECRET = 'whsec-test-5f1c';
const YAML = `
repository: acme/shop
channels: { deployLog: C0DEPLOYLOG }
roles:
  leads: { users: [U0LEAD] }
autoDeploy:
  - { on: push, branch: main, environment: dev }
  - { on: workflow_run, workflow: CI, branch: staging, conclusion: success, environment: staging }
environments:
  - name: dev
    githubDeployment: { requiredContexts: [] }
    steps:
      - name: Build
        run: [sh, -c, 'echo building {{version}}']
  - name: broken
    githubDeployment: { requiredContexts: [ci/test], environment: Broken Env }
    steps:
      - name: Build
        run: [sh, -c, 'echo nope; exit 3']
  - name: staging
    steps:
      - name: Ship
        workflow: { file: deploy.yml, ref: main, inputs: { version: '{{version}}', who: '{{user}}' } }
  - name: prod
    checklist:
      - section: GitHub
        items:
          - { id: green, text: CI green, check: { github: { statuses: all } } }
          - { id: named, text: Tests pass, check: { github: { statuses: [test] } } }
          - { id: reviewed, text: PR approved, check: { github: { reviews: approved } } }
          - { id: owners, text: Code owners approved, check: { github: { reviews: codeOwners } } }
    steps:
      - name: Release
        run: [sh, -c, 'echo release']
`;

let redisUrl: string;
let gh: GithubStandin;
let bot: TestBot;

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  gh = await startGithubStandin();
  bot = await startTestBot({ configYaml: YAML, redisUrl, github: standinSettings(gh, WEBHOOK_SECRET) });
});
afterAll(async () => {
  await bot?.stop();
  await gh?.stop();
  await stopRedis();
});
afterEach(() => {
  gh.fault = undefined;
  expect(gh.problems).toEqual([]);
});

async function deploy(env: string, ref: string, user = 'U0ALICE'): Promise<string> {
  const res = await bot.command('/deploy', `${env} ${ref}`, user);
  return deployIdFrom(String(res.json.text));
}

/** The states a deployment went through, once its last one is `last`. */
async function statesOf(sha: string, last: string): Promise<string[]> {
  const d = await eventually(() => gh.deployments.find((x) => x.sha === sha && x.statuses.at(-1)?.state === last), 10_000, `deployment of ${sha.slice(0, 7)} to end ${last}`);
  return d.statuses.map((s) => s.state);
}

function threadText(): string {
  return bot.slack.messages().map(allText).join('\n');
}

describe('GitHub Deployments', () => {
  it('one per deploy, its status kept in step; the one replaced ends inactive, a rollback included', async () => {
    const v1 = gh.commit('main', 'feat: one');
    const id1 = await deploy('dev', v1);
    expect((await waitForEnd(bot, id1)).status).toBe('succeeded');
    const first = await statesOf(v1, 'success');
    expect(first.filter((s) => s !== 'queued')).toEqual(['in_progress', 'success']); // "queued" is posted when it wins the race
    const d1 = gh.deployments.find((d) => d.sha === v1);
    expect(d1).toMatchObject({ ref: v1, environment: 'dev', autoMerge: false, requiredContexts: [], payload: { shipmateDeployId: id1 } });

    const v2 = gh.commit('main', 'feat: two');
    const id2 = await deploy('dev', v2);
    expect((await waitForEnd(bot, id2)).status).toBe('succeeded');
    await statesOf(v2, 'success');
    await statesOf(v1, 'inactive');

    // Rollback to v1: a new deployment of v1 succeeds and v2's ends inactive.
    const dev = findEnvironment(bot.config, 'dev');
    if (!dev) throw new Error('no dev');
    const rb = await bot.shipmate.deps.deploys.request({ env: dev, ref: v1, user: 'U0ALICE', channel: 'C0RELEASES', rollbackFrom: v2 });
    if (!('record' in rb) || !rb.record) throw new Error('rollback not created');
    expect((await waitForEnd(bot, rb.record.id)).status).toBe('succeeded');
    await statesOf(v2, 'inactive');
    const again = gh.deployments.filter((d) => d.sha === v1);
    expect(again).toHaveLength(2);
    expect(again[1]?.statuses.at(-1)?.state).toBe('success');
    expect((await bot.shipmate.deps.store.get(rb.record.id))?.github?.deploymentId).toBe(again[1]?.id);
    // the rollback left dev locked; the tests after this one deploy there
    await bot.shipmate.deps.deploys.locks.unlock(dev, 'U0ALICE');
  });

  it('a failed deploy ends "failure", under the GitHub environment name configured', async () => {
    const sha = gh.commit('main', 'fix: broken');
    const id = await deploy('broken', sha);
    expect((await waitForEnd(bot, id)).status).toBe('failed');
    await statesOf(sha, 'failure');
    expect(gh.deployments.find((d) => d.sha === sha)).toMatchObject({ environment: 'Broken Env', requiredContexts: ['ci/test'] });
  });

  it('GitHub down: retried, then noted on the record; the deploy itself succeeds', async () => {
    const sha = gh.commit('main', 'chore: during an outage');
    // Down as a request is answered: nothing is queued (the commit cannot be looked up).
    gh.fault = { mode: 'down' };
    const refused = await bot.command('/deploy', `dev ${sha}`, 'U0ALICE');
    expect(refused.json.text).toMatch(/could not ask acme\/shop what .* is \(Server Error\), so nothing was queued/);
    // Down once the deploy is under way: the commit was looked up, then GitHub's Deployments stop answering
    // (only those paths fail, so the outage starts after the request deterministically).
    gh.fault = { mode: 'down', paths: /\/deployments/ };
    const id = await deploy('dev', sha);
    expect((await waitForEnd(bot, id)).status).toBe('succeeded');
    const noted = await eventually(async () => (await bot.shipmate.deps.store.get(id))?.notes.find((n) => n.includes('GitHub deployment not updated')), 10_000, 'the note');
    expect(noted).toMatch(/GitHub is not answering properly \(HTTP 500/);
    expect(gh.deployments.some((d) => d.sha === sha)).toBe(false);
  });
});

describe('github-workflow step', () => {
  it('dispatches the workflow with its inputs, follows the run to success and links it in the thread', async () => {
    gh.tags.set('v2.0.0', gh.commit('main', 'feat: shippable'));
    gh.plans.set('deploy.yml', { conclusion: 'success', polls: 3 });
    const before = gh.runs.length;
    const id = await deploy('staging', 'v2.0.0');
    const done = await waitForEnd(bot, id);
    expect(done.status).toBe('succeeded');
    expect(gh.runs.length - before).toBe(1);
    const run = gh.runs.at(-1);
    expect(run).toMatchObject({ file: 'deploy.yml', ref: 'main', inputs: { version: 'v2.0.0', who: 'U0ALICE' } });
    expect(done.steps[0]?.workflowRun).toMatchObject({ runId: run?.id, url: `https://github.example/acme/shop/actions/runs/${run?.id}` });
    await eventually(() => threadText().includes(`actions/runs/${run?.id}`), 5_000, 'the run link in the thread');
  });

  it('a failed run fails the step with the failed job’s name and the tail of its log in the thread', async () => {
    gh.tags.set('v2.0.1', gh.commit('main', 'feat: needs a migration'));
    gh.plans.set('deploy.yml', { conclusion: 'failure', polls: 1, failedJob: { name: 'migrate-db', log: 'step 1 ok\nstep 2 ok\nERROR: relation "orders" does not exist' } });
    const id = await deploy('staging', 'v2.0.1');
    const done = await waitForEnd(bot, id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/workflow run failure: job “migrate-db” failed/);
    await eventually(() => threadText().includes('relation') && threadText().includes('failed job: migrate-db'), 5_000, 'the failed job and its log in the thread');
  });

  it('rate limited: waited out and carried on; still limited: reported plainly', async () => {
    gh.tags.set('v2.0.2', gh.commit('main', 'feat: two'));
    gh.tags.set('v2.0.3', gh.commit('main', 'feat: three'));
    gh.plans.set('deploy.yml', { conclusion: 'success', polls: 1 });
    // Limited once the deploys are queued (the tags were looked up): only the Actions API is limited.
    gh.fault = { mode: 'rate-limited', times: 2, paths: /\/actions\// };
    expect((await waitForEnd(bot, await deploy('staging', 'v2.0.2'))).status).toBe('succeeded');
    gh.fault = { mode: 'rate-limited', paths: /\/actions\// };
    const done = await waitForEnd(bot, await deploy('staging', 'v2.0.3'));
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/GitHub rate limit reached/);
  });
});

describe('auto-deploy webhooks', () => {
  async function deliver(event: string, payload: unknown, delivery: string, secret = WEBHOOK_SECRET) {
    const body = JSON.stringify(payload);
    const res = await fetch(bot.url.replace('/slack/events', '/github/webhook'), {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': await sign(secret, body) },
    });
    return { status: res.status, json: (await res.json()) as { deploys?: Array<{ deployId: string; created: boolean }> } };
  }
  const push = (sha: string, branch = 'main') => ({ ref: `refs/heads/${branch}`, before: '0'.repeat(40), after: sha, deleted: false, pusher: { name: 'octocat', email: 'o@example.com' }, sender: { login: 'octocat' }, repository: { full_name: 'acme/shop' } });

  it('a push to main deploys dev once, told in the channel; a redelivery has no effect', async () => {
    const sha = gh.commit('main', 'feat: merged');
    const first = await deliver('push', push(sha), 'delivery-1');
    expect(first.status).toBe(202);
    const id = first.json.deploys?.[0]?.deployId ?? '';
    expect(first.json.deploys?.[0]?.created).toBe(true);
    const done = await waitForEnd(bot, id);
    expect(done).toMatchObject({ env: 'dev', ref: sha, status: 'succeeded', channel: 'C0DEPLOYLOG', requestedBy: 'github:octocat' });
    expect(done.notes.join(' ')).toContain('started by GitHub: push to main, by octocat');
    const status = await eventually(() => bot.statusMessage(id, 'C0DEPLOYLOG'), 5_000, 'the status message in the deploy channel');
    expect(allText(status)).toContain('octocat (GitHub)');

    const again = await deliver('push', push(sha), 'delivery-1');
    expect(again.status).toBe(202);
    expect(again.json.deploys?.[0]).toMatchObject({ deployId: id, created: false });
    expect((await bot.shipmate.deps.store.recentLog(50, 'dev')).filter((e) => e.ref === sha)).toHaveLength(1);
  });

  it('a push to a locked environment deploys nothing and says why in the channel', async () => {
    const dev = findEnvironment(bot.config, 'dev');
    if (!dev) throw new Error('no dev');
    await bot.shipmate.deps.deploys.locks.lock(dev, 'U0ALICE', 'data fix running');
    const sha = gh.commit('main', 'feat: while locked');
    const res = await deliver('push', push(sha), 'delivery-locked');
    expect(res.status).toBe(202);
    expect(res.json.deploys).toEqual([{ env: 'dev', created: false, reason: 'locked' }]);
    expect((await bot.shipmate.deps.store.active()).some((r) => r.ref === sha)).toBe(false);
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => (m.text ?? '').includes(`did not deploy \`${sha.slice(0, 7)}\`: dev is locked`)), 5_000, 'the locked notice');
    await bot.shipmate.deps.deploys.locks.unlock(dev, 'U0ALICE');
  });

  it('a bad signature gets 401 and does nothing; other branches do nothing', async () => {
    const sha = gh.commit('main', 'feat: forged');
    const bad = await deliver('push', push(sha), 'delivery-2', 'not-the-secret');
    expect(bad.status).toBe(401);
    const other = await deliver('push', push(gh.commit('feature', 'wip'), 'feature'), 'delivery-3');
    expect(other.json.deploys).toEqual([]);
    const active = await bot.shipmate.deps.store.active();
    expect(active.some((r) => r.ref === sha)).toBe(false);
  });

  it('CI passing on the staging branch deploys staging', async () => {
    gh.plans.set('deploy.yml', { conclusion: 'success', polls: 1 });
    const sha = gh.commit('staging', 'feat: staged');
    const payload = (conclusion: string) => ({ action: 'completed', workflow_run: { name: 'CI', head_branch: 'staging', head_sha: sha, conclusion, html_url: 'https://github.example/acme/shop/actions/runs/9', actor: { login: 'ci-bot' } } });
    expect((await deliver('workflow_run', payload('failure'), 'delivery-4')).json.deploys).toEqual([]);
    const ok = await deliver('workflow_run', payload('success'), 'delivery-5');
    const id = ok.json.deploys?.[0]?.deployId ?? '';
    expect(await waitForEnd(bot, id)).toMatchObject({ env: 'staging', ref: sha, status: 'succeeded' });
  });
});

describe('checklist items ticked from GitHub', () => {
  it('statuses, named checks, approvals and code owners: ticked with the evidence, or left with the reason', async () => {
    const sha = gh.commit('main', 'feat: reviewed');
    gh.statuses.set(sha, [{ context: 'ci/build', state: 'success' }]);
    gh.checkRuns.set(sha, [{ name: 'test', status: 'completed', conclusion: 'success' }, { name: 'lint', status: 'completed', conclusion: 'failure' }]);
    gh.pulls.push({ number: 42, headSha: sha, reviews: [{ user: 'bob', state: 'APPROVED' }], reviewDecision: 'REVIEW_REQUIRED' });
    const id = await deploy('prod', sha);
    const items = await eventually(async () => {
      const r = await bot.shipmate.deps.store.get(id);
      const it = r?.gates?.items ?? {};
      return ['green', 'named', 'reviewed', 'owners'].every((k) => it[k]?.reason) ? it : undefined;
    }, 10_000, 'all four checks to report');
    expect(items.green).toMatchObject({ checked: false });
    expect(items.green?.reason).toMatch(/lint: failure on [0-9a-f]{7}/);
    expect(items.named).toMatchObject({ checked: true, by: 'shipmate' });
    expect(items.named?.reason).toContain(`/commit/${sha}/checks`);
    expect(items.reviewed).toMatchObject({ checked: true });
    expect(items.reviewed?.reason).toMatch(/#42 approved by bob \(https:\/\/github\.example\/acme\/shop\/pull\/42\)/);
    expect(items.owners).toMatchObject({ checked: false });
    expect(items.owners?.reason).toMatch(/review decision is review required/);
  });
});

describe('without a token', () => {
  it('warns at start-up, and a github step fails saying how to turn GitHub on', async () => {
    // Without a token, `repository: acme/shop` is read with git over https. There is no network here, so git
    // is told (through its own config, as a mirror would be) to find github.com's repositories in a local directory.
    const mirror = mkdtempSync(join(tmpdir(), 'shipmate-gh-mirror-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: join(mirror, 'acme/shop.git'), stdio: 'pipe' });
    mkdirSync(join(mirror, 'acme/shop.git'), { recursive: true });
    git('init', '-q', '-b', 'main');
    git('commit', '-q', '--allow-empty', '-m', 'feat: offline');
    git('tag', 'v9.9.9');
    const plain = await startTestBot({
      configYaml: YAML, redisUrl, slack: bot.slack,
      env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${mirror}/.insteadOf`, GIT_CONFIG_VALUE_0: 'https://github.com/' },
    });
    try {
      expect(plain.shipmate.deps.github).toBeUndefined();
      const warned = plain.logs.lines().filter((l) => l.level === 40 && String(l.msg).includes('GITHUB_TOKEN'));
      expect(warned.length).toBeGreaterThan(0);
      expect(String(warned[0]?.msg)).toMatch(/Configured but off: .*githubDeployment.*github-workflow.*github check/);
      const res = await plain.command('/deploy', 'staging v9.9.9', 'U0ALICE');
      const done = await waitForEnd(plain, deployIdFrom(String(res.json.text)));
      expect(done.status).toBe('failed');
      expect(done.error).toContain(GITHUB_OFF);
      const hook = await fetch(plain.url.replace('/slack/events', '/github/webhook'), { method: 'POST', body: '{}' });
      expect(hook.status).toBe(503);
      expect(await hook.text()).toContain('GITHUB_WEBHOOK_SECRET');
    } finally {
      await plain.stop();
      rmSync(mirror, { recursive: true, force: true });
    }
  });
});
