// Where a canary's decisions go, against a real Prometheus and the GitHub and Slack stand-ins: weights set by a
// GitHub Actions workflow (one dispatch per phase, {{weight}} in its inputs); an inconclusive pause that asks the
// configured people once per pause, also across a worker restart; and a sustained breach with `onBreach: rollback`
// that queues the environment's rollback job once, which runs right after the failed deploy and locks the environment.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_ACTIONS } from '../../blocks/canary-status.js';
import { queryPrometheus } from '../../src/canary/prometheus.js';
import { askMentions, CANARY_USER, watchServices } from '../../src/canary/watch-services.js';
import { parseConfig } from '../../src/core/config.js';
import { readDeployAudit } from '../../src/deploys/deploy-store.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { allText, BOT_TOKEN, CHANNEL, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { standinSettings, startGithubStandin, type GithubStandin } from '../helpers/github-standin.js';
import { startPrometheus, startTarget, type MetricsTarget, type PrometheusServer } from './prometheus-server.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-canary-routes-'));
const ERR = (forS: number) => `{ name: error rate, query: 'app_error_ratio{svc="{{env}}",track="{{track}}"}', max: 0.01, for: ${forS}s, unit: percent }`;
const MARK = (what: string) => `{ run: [sh, -c, 'echo "${what} $1 $(date +%s%3N)" >> ${marks}/$2.log', sh, '{{weight}}', '{{env}}'] }`;

const yaml = (prom: string) => `
repository: acme/shop
roles:
  deployers: { users: [U0ALICE, U0BOB] }
  oncall: { users: [U0DAVE], groups: [S0SRE] }
environments:
  - name: wf
    deployers: [deployers]
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: 0.5s
          setWeight: { workflow: { file: weight.yml, ref: main, inputs: { weight: '{{weight}}', version: '{{version}}' } }, timeout: 30s }
          phases: [{ weight: 5, hold: 1s }, { weight: 25, hold: 1s }, { weight: 100 }]
          metrics: [${ERR(2)}]
  - name: guarded
    deployers: [deployers]
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: 0.5s
          onBreach: rollback
          setWeight: ${MARK('weight')}
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{env}}'] }
          phases: [{ weight: 5, hold: 1s }, { weight: 100 }]
          metrics: [${ERR(1.5)}]
    rollback:
      steps:
        - name: Put back
          run: [sh, -c, 'echo "rollback $1 from $2 by $3 $(date +%s%3N)" >> ${marks}/$4.log', sh, '{{version}}', '{{rollbackFrom}}', '{{user}}', '{{env}}']
  - name: asking
    deployers: [deployers]
    steps:
      - name: Canary
        canary:
          prometheus: http://127.0.0.1:9
          interval: 0.5s
          askOnInconclusive: [oncall, U0CAROL]
          setWeight: ${MARK('weight')}
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{env}}'] }
          phases: [{ weight: 5, hold: 0.5s }, { weight: 100 }]
          metrics: [${ERR(1)}]
`;

let target: MetricsTarget;
let prom: PrometheusServer;
let gh: GithubStandin;
let redisUrl: string;
let bot: TestBot;
let slack: SlackStandin;
const healthy = { errors: 0.002, latency: 0.1 };

function marksOf(envName: string): string[] {
  const file = join(marks, `${envName}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

async function deploy(envName: string, version: string, user = 'U0ALICE'): Promise<string> {
  const res = await bot.command('/deploy', `${envName} ${version}`, user);
  const id = /#(\d+)/.exec(res.json.text ?? '')?.[1];
  if (!id) throw new Error(`no deploy id in ${JSON.stringify(res.json)}`);
  return id;
}

async function serve(svc: string, values: { errors: number; latency: number }): Promise<void> {
  for (const t of ['canary', 'stable'] as const) target.set(svc, t, values);
  await eventually(async () => {
    const r = await queryPrometheus(prom.url, `count(app_error_ratio{svc="${svc}"} == ${values.errors})`);
    return r.kind === 'value' && r.value === 2;
  }, 10_000, `Prometheus to scrape ${svc}`);
}

const record = (id: string) => bot.shipmate.deps.store.get(id);

beforeAll(async () => {
  target = await startTarget();
  const [redis, p, g, s] = await Promise.all([startRedis(), startPrometheus(target.port), startGithubStandin(), startSlackStandin({ token: BOT_TOKEN })]);
  prom = p;
  gh = g;
  slack = s;
  redisUrl = redis.url;
  for (const v of ['v1', 'v2', 'v3']) gh.tags.set(v, gh.commit('main', `release ${v}`));
  // The test's own Slack stand-in: it outlives a bot stopped and started again (a worker restart).
  bot = await startTestBot({ configYaml: yaml(prom.url), redisUrl, github: standinSettings(gh), slack });
}, 30_000);
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await gh?.stop();
  await prom?.stop();
  await target?.close();
  await stopRedis();
}, 20_000);

describe('setWeight as a GitHub Actions workflow', () => {
  it('dispatches the workflow once per phase with that phase’s {{weight}}, in order, and follows each run to its end', async () => {
    await serve('wf', healthy);
    gh.plans.set('weight.yml', { conclusion: 'success', polls: 2 });
    const id = await deploy('wf', 'v1');
    const done = await waitForEnd(bot, id, 30_000);
    expect(done.status).toBe('succeeded');
    const runs = gh.runs.filter((r) => r.file === 'weight.yml');
    expect(runs.map((r) => r.inputs.weight)).toEqual(['5', '25', '100']);
    expect(runs.every((r) => r.inputs.version === 'v1' && r.ref === 'main')).toBe(true);
    // Each phase followed its own run (never an earlier phase's), each to completion, before the hold began.
    expect(done.steps[0]?.watch?.weightRuns).toEqual(runs.map((r) => r.id));
    expect(runs.every((r) => r.reads > 2)).toBe(true);
    expect(gh.problems).toEqual([]);
  }, 40_000);

  it('fails the canary at the phase whose workflow run failed, with the failed job', async () => {
    await serve('wf', healthy);
    const before = gh.runs.length;
    gh.plans.set('weight.yml', { conclusion: 'success', polls: 1 });
    const id = await deploy('wf', 'v2');
    await eventually(() => gh.runs.length > before, 10_000, 'the first dispatch');
    gh.plans.set('weight.yml', { conclusion: 'failure', polls: 1, failedJob: { name: 'shift traffic', log: 'ingress: weight refused' } });
    const done = await waitForEnd(bot, id, 30_000);
    expect(done.status).toBe('failed');
    expect(gh.runs.slice(before).map((r) => r.inputs.weight)).toEqual(['5', '25']);
    expect(done.error).toMatch(/setting the weight to 25 % failed \(workflow run failure: job “shift traffic” failed/);
  }, 40_000);
});

describe('onBreach: rollback', () => {
  it('a sustained breach fails the deploy and queues one rollback job to the last good version, which runs next and locks the environment', async () => {
    await serve('guarded', healthy);
    const good = await waitForEnd(bot, await deploy('guarded', 'v1'), 20_000);
    expect(good.status).toBe('succeeded');

    target.set('guarded', 'canary', { errors: 0.05, latency: 0.1 });
    await eventually(async () => (await queryPrometheus(prom.url, 'app_error_ratio{svc="guarded",track="canary"} > 0.01')).kind === 'value', 10_000, 'the breach to be scraped');
    const id = await deploy('guarded', 'v2');
    const failed = await waitForEnd(bot, id, 20_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/rolled back at phase 1 \(5 %\): error rate = 5 %, limit ≤ 1 %/);
    const job = failed.steps[0]?.watch?.rollback?.job;
    expect(job).toBeDefined();
    expect(failed.notes.join('\n')).toMatch(new RegExp(`Rolled back automatically at phase 1 \\(5 %\\).*the abort command ran; rollback #${job} to \`v1\` is queued`));

    const rollback = await waitForEnd(bot, job ?? '', 20_000);
    expect(rollback).toMatchObject({ kind: 'rollback', status: 'succeeded', version: 'v1', rollbackFrom: 'v2', requestedBy: CANARY_USER });
    expect(rollback.reason).toMatch(new RegExp(`^canary of deploy #${id} breached: error rate = 5 %, limit ≤ 1 %, breached for \\d`));
    // It ran right after the failed canary (one at a time per environment), its own steps, not the canary.
    expect(rollback.startedAt).toBeGreaterThanOrEqual(failed.finishedAt ?? Infinity);
    const lines = marksOf('guarded');
    expect(lines.filter((l) => l.startsWith('rollback'))).toEqual([expect.stringMatching(/^rollback v1 from v2 by shipmate:canary /)]);
    expect(lines.filter((l) => l.startsWith('abort'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('weight')).map((l) => l.split(' ')[1])).toEqual(['5', '100', '5']);
    // Locked as rollbacks leave it, by Shipmate (canary), and said so where people look.
    const lock = await bot.shipmate.deps.deploys.locks.get('guarded');
    expect(lock).toMatchObject({ by: CANARY_USER, deployId: job });
    expect(JSON.stringify((await bot.command('/deploy', 'guarded v3', 'U0ALICE')).json)).toMatch(/guarded is locked: by Shipmate \(canary\)/);

    // Asked again (a redelivered job, a resumed run): the same rollback, nothing new queued.
    const env = bot.config.environments.find((e) => e.name === 'guarded');
    if (!env) throw new Error('no env');
    const again = await watchServices(bot.shipmate.deps, env, id, 0, env.steps[0]).requestRollback?.('asked again');
    expect(again).toMatchObject({ ok: true, id: job });
    const all = await Promise.all(Array.from({ length: Number(job) + 3 }, (_, n) => record(String(n + 1))));
    expect(all.filter((r) => r?.kind === 'rollback')).toHaveLength(1);
  }, 60_000);
});

describe('an inconclusive pause asks a person', () => {
  const asks = () => bot.slack.messages(CHANNEL).filter((m) => m.thread_ts && (m.text ?? '').includes('is paused at'));

  it('names the configured people (roles and user ids) or, by default, the environment’s deployers', () => {
    const config = parseConfig(yaml('http://127.0.0.1:9090'), 'test.yml', {});
    const env = (name: string) => config.environments.find((e) => e.name === name) ?? config.environments[0]!;
    expect(askMentions(config, env('asking'), env('asking').steps[0], 'U0ALICE')).toEqual(['<!subteam^S0SRE>', '<@U0DAVE>', '<@U0CAROL>']);
    expect(askMentions(config, env('wf'), env('wf').steps[0], 'U0ALICE')).toEqual(['<@U0ALICE>', '<@U0BOB>']);
    expect(() => parseConfig(yaml('http://127.0.0.1:9090').replace('askOnInconclusive: [oncall, U0CAROL]', 'askOnInconclusive: [nobody]'), 'test.yml', {})).toThrow(/role "nobody" is not defined/);
    expect(() => parseConfig(yaml('http://127.0.0.1:9090').replace(/ {4}rollback:\n {6}steps:\n {8}- name: Put back\n.*\n/, ''), 'test.yml', {})).toThrow(/onBreach: rollback needs rollback\.steps/);
  });

  it('posts one question per pause in the deploy’s thread, none on later evaluations nor after a restart, with Resume and Abort', async () => {
    const id = await deploy('asking', 'v1');
    const first = await eventually(() => asks().length > 0 && asks(), 10_000, 'the question');
    expect(first).toHaveLength(1);
    const q = first[0]!;
    expect(q.thread_ts).toBe(bot.statusMessage(id)?.ts);
    expect(q.text).toMatch(/^:double_vertical_bar: <!subteam\^S0SRE> <@U0DAVE> <@U0CAROL> the canary of deploy #\d+ .* is paused at phase 1 \(5 %\): inconclusive: error rate: Prometheus unreachable/);
    expect(allText(q)).toContain(CANARY_ACTIONS.resume);
    expect(allText(q)).toContain(CANARY_ACTIONS.abort);
    await new Promise((ok) => setTimeout(ok, 2_000)); // four more evaluations, all inconclusive
    expect(asks()).toHaveLength(1);

    // The worker stops mid-pause and another takes the parked watch up (its wake-ups now run there, re-entering the
    // watch from the stored state): it stays paused and asks nothing new.
    const paused = (await record(id))?.steps[0]?.watch?.paused;
    await bot.stop();
    const stoppedAt = Date.now();
    bot = await startTestBot({ configYaml: yaml(prom.url), redisUrl, github: standinSettings(gh), slack, prefix: bot.prefix });
    const evaluatedAt = async () => Math.max(0, ...Object.values((await record(id))?.steps[0]?.watch?.latest ?? {}).map((m) => m.at));
    await eventually(async () => (await evaluatedAt()) > stoppedAt + 200, 15_000, 'the deploy to be resumed');
    await new Promise((ok) => setTimeout(ok, 1_500));
    expect((await record(id))?.steps[0]?.watch?.paused?.at).toBe(paused?.at);
    expect(asks()).toHaveLength(1);

    // Resume from the question, by someone it asked (on call, not a deployer): still no data, so it pauses again,
    // and that new pause asks once more.
    await bot.click(q, CANARY_ACTIONS.resume, 'U0DAVE');
    await eventually(() => asks().length === 2, 10_000, 'the second question');
    await new Promise((ok) => setTimeout(ok, 1_500));
    expect(asks()).toHaveLength(2);
    await bot.click(asks()[1]!, CANARY_ACTIONS.abort, 'U0MALLORY'); // neither asked nor a deployer: refused
    await new Promise((ok) => setTimeout(ok, 600));
    expect((await record(id))?.status).toBe('running');
    await bot.click(asks()[1]!, CANARY_ACTIONS.abort, 'U0CAROL');
    const done = await waitForEnd(bot, id, 10_000);
    expect(done.error).toMatch(/aborted at phase 1 \(5 %\): aborted by <@U0CAROL>/);
    const audit = (await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).map((a) => `${a.action} ${a.user}`);
    expect(audit).toEqual(expect.arrayContaining(['canary.resume U0DAVE', 'canary.abort-refused U0MALLORY', 'canary.abort U0CAROL']));
    expect(marksOf('asking').filter((l) => l.startsWith('abort'))).toHaveLength(1);
  }, 60_000);
});
