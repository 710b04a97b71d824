// Canary and monitor steps against a real Prometheus (Debian's package) scraping a target whose error
// rate and latency each test sets; durations scaled to seconds. Each environment watches its own `svc`.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_ACTIONS } from '../../blocks/canary-status.js';
import { queryPrometheus } from '../../src/canary/prometheus.js';
import { readDeployAudit } from '../../src/deploys/deploy-store.js';
import { allText, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { startPrometheus, startTarget, type MetricsTarget, type PrometheusServer } from './prometheus-server.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-canary-'));
const INTERVAL_MS = 500;
const ERR = (forS: number) => `{ name: error rate, query: 'app_error_ratio{svc="{{env}}",track="{{track}}"}', max: 0.01, for: ${forS}s, unit: percent }`;
const LAT = `{ name: p95 latency, query: 'app_latency_p95_seconds{svc="{{env}}",track="{{track}}"}', maxIncrease: 0.5, for: 1.5s, unit: ms }`;
const VS = `{ name: errors vs stable, query: 'app_error_ratio{svc="{{env}}",track="{{track}}"}', maxAboveStable: 0.001, for: 1.5s, unit: percent }`;

function env(name: string, phases: string, metrics: string[], prometheus: string): string {
  return `
  - name: ${name}
    deployers: [deployers]
    steps:
      - name: Canary
        canary:
          prometheus: ${prometheus}
          interval: ${INTERVAL_MS / 1000}s
          setWeight: { run: [sh, -c, 'echo "weight $1 $(date +%s%3N)" >> ${marks}/$2.log', sh, '{{weight}}', '{{env}}-{{deployId}}'] }
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{env}}-{{deployId}}'] }
          phases: ${phases}
          metrics: [${metrics.join(', ')}]`;
}

function yaml(prom: string): string {
  return `
roles:
  deployers: { users: [U0ALICE, U0BOB] }
environments:${[
    env('healthy', '[{ weight: 5, hold: 1s }, { weight: 25, hold: 1s }, { weight: 50, hold: 1s }, { weight: 100 }]', [ERR(2), LAT], prom),
    env('errors', '[{ weight: 5, hold: 1s }, { weight: 25, hold: 30s }, { weight: 50, hold: 1s }, { weight: 100 }]', [ERR(2)], prom),
    env('latency', '[{ weight: 10, hold: 30s }, { weight: 100 }]', [ERR(2), LAT], prom),
    env('vsstable', '[{ weight: 10, hold: 30s }, { weight: 100 }]', [ERR(2), VS], prom),
    env('spike', '[{ weight: 5, hold: 5s }, { weight: 100 }]', [ERR(3)], prom),
    env('unreachable', '[{ weight: 5, hold: 0.5s }, { weight: 100 }]', [ERR(2)], 'http://127.0.0.1:9'),
    env('nodata', '[{ weight: 5, hold: 0.5s }, { weight: 100 }]', [ERR(2)], prom),
    `
  - name: monitored
    steps:
      - name: Monitor
        monitor:
          prometheus: ${prom}
          duration: 30s
          interval: ${INTERVAL_MS / 1000}s
          metrics: [${ERR(1.5)}]
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{env}}-{{deployId}}'] }`,
    env('manual', '[{ weight: 5, hold: 60s }, { weight: 25, hold: 60s }, { weight: 50, hold: 60s }, { weight: 100 }]', [ERR(2)], prom),
  ].join('')}
`;
}

let target: MetricsTarget;
let prom: PrometheusServer;
let bot: TestBot;
const healthy = { errors: 0.002, latency: 0.1 };

function marksOf(envName: string, id: string): string[] {
  const file = join(marks, `${envName}-${id}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}
const weights = (envName: string, id: string) => marksOf(envName, id).filter((l) => l.startsWith('weight')).map((l) => Number(l.split(' ')[1]));
const timeOf = (envName: string, id: string, prefix: string) => Number(marksOf(envName, id).find((l) => l.startsWith(prefix))?.split(' ').at(-1));

async function deploy(envName: string, user = 'U0ALICE'): Promise<string> {
  const res = await bot.command('/deploy', `${envName} v2`, user);
  const id = /#(\d+)/.exec(res.json.text ?? '')?.[1];
  if (!id) throw new Error(`no deploy id in ${JSON.stringify(res.json)}`);
  return id;
}

/** Sets both tracks of a service and waits until Prometheus has scraped them. */
async function serve(svc: string, values: { errors: number; latency: number }): Promise<void> {
  for (const t of ['canary', 'stable'] as const) target.set(svc, t, values);
  await eventually(async () => {
    const r = await queryPrometheus(prom.url, `count(app_latency_p95_seconds{svc="${svc}"} == ${values.latency})`);
    return r.kind === 'value' && r.value === 2;
  }, 10_000, `Prometheus to scrape ${svc}`);
}

const record = (id: string) => bot.shipmate.deps.store.get(id);

beforeAll(async () => {
  target = await startTarget();
  const [redis, p] = await Promise.all([startRedis(), startPrometheus(target.port)]);
  prom = p;
  bot = await startTestBot({ configYaml: yaml(prom.url), redisUrl: redis.url });
}, 30_000);
afterAll(async () => {
  await bot?.stop();
  await prom?.stop();
  await target?.close();
  await stopRedis();
}, 20_000);

describe('canary step on Prometheus', () => {
  it('promotes a healthy canary through every phase, showing phase, weight and metrics live', async () => {
    await serve('healthy', healthy);
    const id = await deploy('healthy');
    const live = await eventually(() => {
      const m = bot.statusMessage(id);
      return m && /phase \d of 4 · weight \d+ %/.test(allText(m)) && allText(m).includes('p95 latency') ? m : undefined;
    }, 10_000, 'the live canary status');
    expect(allText(live)).toMatch(/error rate: \*0\.2 %\* ≤ 1 %/);
    expect(allText(live)).toContain(CANARY_ACTIONS.promote);
    const done = await waitForEnd(bot, id, 20_000);
    expect(done.status).toBe('succeeded');
    expect(weights('healthy', id)).toEqual([5, 25, 50, 100]);
    expect(marksOf('healthy', id).some((l) => l.startsWith('abort'))).toBe(false);
    expect(done.steps[0]?.watch).toMatchObject({ ended: 'promoted', baseline: { 'p95 latency': 0.1 } });
  }, 30_000);

  it('rolls back on an error rate above 1 % that lasts its 2 s, at the phase it happened, with the numbers and a link', async () => {
    await serve('errors', healthy);
    const id = await deploy('errors');
    await eventually(() => weights('errors', id).includes(25), 10_000, 'phase 2');
    const breachAt = Date.now();
    target.set('errors', 'canary', { errors: 0.05, latency: 0.1 });
    const done = await waitForEnd(bot, id, 15_000);
    expect(done.status).toBe('failed');
    expect(weights('errors', id)).toEqual([5, 25]);
    expect(done.error).toMatch(/rolled back at phase 2 \(25 %\): error rate = 5 %.*limit ≤ 1 %.*breached for/);
    expect(done.notes.join('\n')).toMatch(/Rolled back automatically at phase 2 \(25 %\).*<http:\/\/127\.0\.0\.1:\d+\/graph\?g0\.expr=app_error_ratio/);
    const abortAt = timeOf('errors', id, 'abort');
    const took = abortAt - breachAt;
    const budget = 2_000 + INTERVAL_MS;
    // Prometheus sees the change at its next scrape (≤ 1 s): that lag is part of what is measured.
    console.log(`[canary timing] sustained breach → rollback started: ${took} ms; breach duration + one interval = ${budget} ms; + one scrape interval = ${budget + 1_000} ms`);
    expect(took).toBeGreaterThanOrEqual(2_000);
    expect(took).toBeLessThan(budget + 1_000 + 500);
    const watch = done.steps[0]?.watch;
    const seenToRollback = (watch?.rollback?.at ?? 0) - (watch?.rollback?.breachSince ?? 0);
    console.log(`[canary timing] first evaluation that saw the breach → rollback: ${seenToRollback} ms (breach duration 2000 ms, interval ${INTERVAL_MS} ms)`);
    expect(seenToRollback).toBeGreaterThanOrEqual(2_000);
    expect(seenToRollback).toBeLessThanOrEqual(2_000 + INTERVAL_MS + 300);
    expect(watch?.ended).toBe('rolled-back');
    expect(watch?.rollback?.phase).toBe(1);
  }, 30_000);

  it('rolls back when p95 latency is more than 50 % worse than the baseline measured before the deploy', async () => {
    await serve('latency', { errors: 0.001, latency: 0.2 });
    const id = await deploy('latency');
    await eventually(() => weights('latency', id).includes(10), 10_000, 'phase 1');
    target.set('latency', 'canary', { errors: 0.001, latency: 0.28 }); // 40 % worse: within the limit
    await new Promise((ok) => setTimeout(ok, 2_500));
    expect((await record(id))?.status).toBe('running');
    target.set('latency', 'canary', { errors: 0.001, latency: 0.35 }); // 75 % worse
    const done = await waitForEnd(bot, id, 15_000);
    expect(done.status).toBe('failed');
    expect(done.steps[0]?.watch?.baseline).toEqual({ 'p95 latency': 0.2 });
    expect(done.error).toMatch(/p95 latency = 350 ms, limit ≤ 300 ms \(baseline 200 ms \+ 50 %\)/);
    expect(marksOf('latency', id).filter((l) => l.startsWith('abort'))).toHaveLength(1);
  }, 30_000);

  it('rolls back a canary worse than stable at the same time even below the absolute limit', async () => {
    await serve('vsstable', { errors: 0.004, latency: 0.1 });
    const id = await deploy('vsstable');
    await eventually(() => weights('vsstable', id).includes(10), 10_000, 'phase 1');
    target.set('vsstable', 'canary', { errors: 0.008, latency: 0.1 }); // 0.8 %: under 1 %, but 0.4 points above stable
    const done = await waitForEnd(bot, id, 15_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/errors vs stable = 0\.8 % \(stable 0\.4 %\), limit ≤ 0\.5 %/);
    expect(done.steps[0]?.watch?.latest['error rate']?.breached).toBe(false);
  }, 30_000);

  it('does not roll back on a spike shorter than the breach duration', async () => {
    await serve('spike', healthy);
    const id = await deploy('spike');
    await eventually(() => weights('spike', id).includes(5), 10_000, 'phase 1');
    await new Promise((ok) => setTimeout(ok, 500));
    target.set('spike', 'canary', { errors: 0.05, latency: 0.1 });
    await eventually(async () => (await record(id))?.steps[0]?.watch?.latest['error rate']?.breached, 5_000, 'the spike to be seen');
    target.set('spike', 'canary', healthy);
    const done = await waitForEnd(bot, id, 15_000);
    expect(done.status).toBe('succeeded');
    expect(weights('spike', id)).toEqual([5, 100]);
    expect(marksOf('spike', id).some((l) => l.startsWith('abort'))).toBe(false);
  }, 30_000);
});

describe('monitor step', () => {
  it('watches without weights and rolls back on errors (Ontos: monitor for 1 hour)', async () => {
    await serve('monitored', healthy);
    const id = await deploy('monitored');
    await eventually(async () => Object.keys((await record(id))?.steps[0]?.watch?.latest ?? {}).length > 0, 10_000, 'a first evaluation');
    const live = await eventually(() => {
      const m = bot.statusMessage(id);
      return m && allText(m).includes('*Monitor*') ? m : undefined;
    }, 5_000, 'the monitor status');
    expect(allText(live)).not.toContain(CANARY_ACTIONS.promote);
    target.set('monitored', 'canary', { errors: 0.2, latency: 0.1 });
    const done = await waitForEnd(bot, id, 15_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/rolled back at the monitor: error rate = 20 %/);
    expect(marksOf('monitored', id).filter((l) => l.startsWith('abort'))).toHaveLength(1);
    expect(marksOf('monitored', id).some((l) => l.startsWith('weight'))).toBe(false);
  }, 30_000);
});

describe('inconclusive is not success', () => {
  it('pauses when Prometheus is unreachable, never promotes, and Abort takes the canary out', async () => {
    const id = await deploy('unreachable');
    const paused = await eventually(async () => (await record(id))?.steps[0]?.watch?.paused, 10_000, 'the pause');
    expect(paused.reason).toMatch(/Prometheus unreachable/);
    await new Promise((ok) => setTimeout(ok, 2_000)); // well past the 0.5 s hold
    const r = await record(id);
    expect(r?.status).toBe('running');
    expect(r?.steps[0]?.watch?.phase).toBe(0);
    expect(weights('unreachable', id)).toEqual([5]);
    expect(r?.notes.join('\n')).toMatch(/paused at phase 1 \(5 %\).*never promotes on missing data/);
    const msg = await eventually(() => {
      const m = bot.statusMessage(id);
      return m && allText(m).includes('Paused') && allText(m).includes(CANARY_ACTIONS.resume) ? m : undefined;
    }, 5_000, 'the paused status with Resume');
    await bot.click(msg, CANARY_ACTIONS.abort, 'U0BOB');
    const done = await waitForEnd(bot, id, 10_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/aborted at phase 1 \(5 %\): aborted by <@U0BOB>/);
    expect(marksOf('unreachable', id).filter((l) => l.startsWith('abort'))).toHaveLength(1);
    expect((await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).map((a) => a.action)).toContain('canary.abort');
  }, 30_000);

  it('pauses when a query returns no data', async () => {
    const id = await deploy('nodata');
    const paused = await eventually(async () => (await record(id))?.steps[0]?.watch?.paused, 10_000, 'the pause');
    expect(paused.reason).toMatch(/error rate: the query returned no data/);
    await new Promise((ok) => setTimeout(ok, 1_500));
    expect(weights('nodata', id)).toEqual([5]);
    await bot.shipmate.deps.deploys.cancel(id, 'U0ALICE');
    expect((await waitForEnd(bot, id, 10_000)).status).toBe('cancelled');
  }, 30_000);
});

describe('manual control', () => {
  it('promote, pause and resume from the buttons, for deployers only, audited', async () => {
    await serve('manual', healthy);
    const id = await deploy('manual');
    const status = async (has: string) => eventually(() => {
      const m = bot.statusMessage(id);
      return m && allText(m).includes(has) ? m : undefined;
    }, 8_000, `status with ${has}`);
    let msg = await status('weight 5 %');
    // Someone who may not deploy here is refused, audited, and nothing changes.
    await bot.click(msg, CANARY_ACTIONS.promote, 'U0MALLORY');
    await new Promise((ok) => setTimeout(ok, 600));
    expect(weights('manual', id)).toEqual([5]);
    await bot.click(msg, CANARY_ACTIONS.promote, 'U0ALICE');
    await eventually(() => weights('manual', id).includes(25), 5_000, 'promoted to 25 %');
    msg = await status('weight 25 %');
    await bot.click(msg, CANARY_ACTIONS.pause, 'U0BOB');
    const paused = await eventually(async () => (await record(id))?.steps[0]?.watch?.paused, 5_000, 'paused');
    expect(paused.by).toBe('U0BOB');
    msg = await status(CANARY_ACTIONS.resume);
    await bot.click(msg, CANARY_ACTIONS.resume, 'U0ALICE');
    await eventually(async () => (await record(id))?.steps[0]?.watch?.paused === undefined, 5_000, 'resumed');
    msg = await status(CANARY_ACTIONS.pause);
    await bot.click(msg, CANARY_ACTIONS.promote, 'U0ALICE');
    await eventually(() => weights('manual', id).includes(50), 5_000, 'promoted to 50 %');
    msg = await status('weight 50 %');
    await bot.click(msg, CANARY_ACTIONS.promote, 'U0ALICE');
    const done = await waitForEnd(bot, id, 10_000);
    expect(done.status).toBe('succeeded');
    expect(weights('manual', id)).toEqual([5, 25, 50, 100]);
    const actions = (await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).map((a) => `${a.action} ${a.user}`);
    expect(actions).toEqual(expect.arrayContaining(['canary.promote-refused U0MALLORY', 'canary.promote U0ALICE', 'canary.pause U0BOB', 'canary.resume U0ALICE']));
    expect(done.notes.join('\n')).toMatch(/Promoted by <@U0ALICE> to phase 2 \(25 %\)/);
  }, 40_000);
});
