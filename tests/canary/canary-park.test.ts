// A canary hold holds no worker: between evaluations the deploy is a delayed wake-up job (the `watch` queue) and
// its environment's own queue has nothing active, while the environment stays leased — a second deploy to it waits
// until the canary has ended. Buttons and a cancel wake the parked watch at once. Real Prometheus, real Redis.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_ACTIONS } from '../../blocks/canary-status.js';
import { queryPrometheus } from '../../src/canary/prometheus.js';
import { watchJobId } from '../../jobs/queues.js';
import { leaseKey } from '../../jobs/env-lease.js';
import { allText, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { startPrometheus, startTarget, type MetricsTarget, type PrometheusServer } from './prometheus-server.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-canary-park-'));
const HOLD_MS = 4_000;

function canaryEnv(name: string, prom: string, interval: string, phases: string): string {
  return `
  - name: ${name}
    deployers: [deployers]
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: ${interval}
          setWeight: { run: [sh, -c, 'echo "weight $1 $(date +%s%3N)" >> ${marks}/$2.log', sh, '{{weight}}', '{{deployId}}'] }
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{deployId}}'] }
          phases: ${phases}
          metrics: [{ name: error rate, query: 'app_error_ratio{svc="park",track="{{track}}"}', max: 0.01, for: 2s }]
      - name: After
        run: [sh, -c, 'echo "after $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{deployId}}']`;
}

const yaml = (prom: string) => `
roles:
  deployers: { users: [U0ALICE, U0BOB] }
environments:${canaryEnv('production', prom, '0.5s', `[{ weight: 5, hold: ${HOLD_MS / 1000}s }, { weight: 100 }]`)}${canaryEnv('slow', prom, '20s', '[{ weight: 5, hold: 600s }, { weight: 25, hold: 600s }, { weight: 100 }]')}
  - name: other
    steps:
      - name: Quick
        run: [sh, -c, 'echo "quick $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{deployId}}']
`;

let target: MetricsTarget;
let prom: PrometheusServer;
let bot: TestBot;

function lines(id: string): string[] {
  const file = join(marks, `${id}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}
const weights = (id: string) => lines(id).filter((l) => l.startsWith('weight')).map((l) => Number(l.split(' ')[1]));
const timeOf = (id: string, what: string) => Number(lines(id).find((l) => l.startsWith(what))?.split(' ').at(-1));
const record = (id: string) => bot.shipmate.deps.store.get(id);

async function deploy(env: string, version = 'v2'): Promise<string> {
  const res = await bot.command('/deploy', `${env} ${version}`, 'U0ALICE');
  const id = /#(\d+)/.exec(res.json.text ?? '')?.[1];
  if (!id) throw new Error(`no deploy id in ${JSON.stringify(res.json)}`);
  return id;
}

beforeAll(async () => {
  target = await startTarget();
  const [redis, p] = await Promise.all([startRedis(), startPrometheus(target.port)]);
  prom = p;
  bot = await startTestBot({ configYaml: yaml(prom.url), redisUrl: redis.url });
  for (const t of ['canary', 'stable'] as const) target.set('park', t, { errors: 0.001, latency: 0.1 });
  await eventually(async () => (await queryPrometheus(prom.url, 'count(app_error_ratio{svc="park"})')).kind === 'value', 10_000, 'a scrape');
}, 30_000);
afterAll(async () => {
  await bot?.stop();
  await prom?.stop();
  await target?.close();
  await stopRedis();
}, 20_000);

describe('a parked hold', () => {
  it('holds no worker, while a second deploy to the same environment waits until the canary has ended', async () => {
    const { queues, redis } = bot.shipmate.deps;
    const first = await deploy('production');
    await eventually(async () => (await (await queues.watch.getJob(watchJobId(first)))?.getState()) === 'delayed', 10_000, 'the first park');
    const second = await deploy('production', 'v3');
    // Sampled through the hold: the environment's queue runs nothing, the deploy is a delayed wake-up job.
    const samples: Array<{ envActive: number; wake: string; lease: string | null; second: string | undefined }> = [];
    const until = Date.now() + HOLD_MS - 1_000;
    let quick: string | undefined;
    while (Date.now() < until) {
      const wake = await queues.watch.getJob(watchJobId(first));
      samples.push({
        envActive: (await queues.queue('production').getJobCounts('active')).active ?? 0,
        wake: wake ? await wake.getState() : 'none',
        lease: await redis.get(leaseKey(bot.prefix, 'production')),
        second: (await record(second))?.status,
      });
      // Another environment's deploy runs meanwhile.
      quick ??= await deploy('other');
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const parked = samples.filter((s) => s.wake === 'delayed').length;
    console.log(`[canary park] ${samples.length} samples during the hold: wake-up job delayed in ${parked}, active in ${samples.filter((s) => s.wake === 'active').length}; environment queue active: ${Math.max(...samples.map((s) => s.envActive))} at most`);
    expect(samples.every((s) => s.envActive === 0)).toBe(true);
    // Most of the time (an evaluation, slower on a loaded machine, is the rest).
    expect(parked).toBeGreaterThanOrEqual(samples.length * 0.5);
    expect(samples.every((s) => s.lease === first && s.second === 'queued')).toBe(true);
    expect((await waitForEnd(bot, quick ?? '', 10_000)).status).toBe('succeeded');

    const done = await waitForEnd(bot, first, 20_000);
    expect(done.status).toBe('succeeded');
    expect(done.runs).toBe(1);
    expect(weights(first)).toEqual([5, 100]);
    expect(lines(first).filter((l) => l.startsWith('after'))).toHaveLength(1);
    // The step output gathered across the parks is posted whole.
    expect(done.steps[0]?.status).toBe('passed');
    expect(done.steps[0]?.durationMs).toBeGreaterThanOrEqual(HOLD_MS);
    const next = await waitForEnd(bot, second, 20_000);
    expect(next.status).toBe('succeeded');
    expect(timeOf(second, 'weight')).toBeGreaterThanOrEqual(timeOf(first, 'after'));
    await eventually(async () => (await redis.get(leaseKey(bot.prefix, 'production'))) === null, 5_000, 'the lease released');
  }, 60_000);

  it('takes a click up at once though the next evaluation is 20 s away; a cancel ends it and frees the environment', async () => {
    const id = await deploy('slow');
    const msg = await eventually(() => {
      const m = bot.statusMessage(id);
      return m && allText(m).includes('weight 5 %') ? m : undefined;
    }, 10_000, 'the canary status');
    await eventually(async () => (await (await bot.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState()) === 'delayed', 5_000, 'the park');
    const clickedAt = Date.now();
    await bot.click(msg, CANARY_ACTIONS.promote, 'U0BOB');
    await eventually(() => weights(id).includes(25), 5_000, 'promoted to 25 %');
    const promoteMs = timeOf(id, 'weight 25') - clickedAt;
    await eventually(async () => (await (await bot.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState()) === 'delayed', 5_000, 'parked again');
    const pausedAt = Date.now();
    await bot.click(bot.statusMessage(id) ?? msg, CANARY_ACTIONS.pause, 'U0ALICE');
    await eventually(async () => (await record(id))?.steps[0]?.watch?.paused, 5_000, 'paused');
    const pauseMs = Date.now() - pausedAt;
    const waiting = await deploy('slow', 'v3');
    await eventually(async () => (await (await bot.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState()) === 'delayed', 5_000, 'parked again');
    const cancelAt = Date.now();
    await bot.shipmate.deps.deploys.cancel(id, 'U0ALICE');
    const done = await waitForEnd(bot, id, 5_000);
    const cancelMs = Date.now() - cancelAt;
    console.log(`[canary park] while parked (interval 20 s): promote took effect in ${promoteMs} ms, pause in ≤ ${pauseMs} ms, cancel ended the deploy in ≤ ${cancelMs} ms`);
    expect(promoteMs).toBeLessThan(1_500);
    expect(pauseMs).toBeLessThan(1_500);
    expect(cancelMs).toBeLessThan(1_500);
    expect(done.status).toBe('cancelled');
    expect(done.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
    expect(lines(id).some((l) => l.startsWith('after'))).toBe(false);
    // The environment is given back: the waiting deploy starts.
    await eventually(() => weights(waiting).includes(5), 10_000, 'the next deploy to start');
    await eventually(async () => (await bot.shipmate.deps.redis.get(leaseKey(bot.prefix, 'slow'))) === waiting, 5_000, 'its lease at its first park');
    await bot.shipmate.deps.deploys.cancel(waiting, 'U0ALICE');
    expect((await waitForEnd(bot, waiting, 5_000)).status).toBe('cancelled');
    await eventually(async () => (await bot.shipmate.deps.redis.get(leaseKey(bot.prefix, 'slow'))) === null, 3_000, 'the lease released');
  }, 60_000);

  it('gives back a lease its ended deploy left behind (a crash between the end and the release)', async () => {
    const { redis, queues } = bot.shipmate.deps;
    const id = await deploy('other', 'v9');
    expect((await waitForEnd(bot, id, 10_000)).status).toBe('succeeded');
    // As if a parked canary's process died right after ending its deploy: lease held, queue closed.
    await queues.leases.hold('other', id);
    const meta = queues.queue('other').toKey('meta');
    expect(await redis.hget(meta, 'concurrency')).toBe('0');
    // A process starting now keeps it closed.
    await queues.init();
    expect(await redis.hget(meta, 'concurrency')).toBe('0');
    expect(await queues.leases.sweep(['other'], bot.shipmate.deps.store)).toEqual(['other']);
    expect(await redis.hget(meta, 'concurrency')).toBe('1');
    // The workers' own sweep does the same: a deploy queued behind such a lease still runs.
    await queues.leases.hold('other', id);
    const next = await deploy('other', 'v10');
    expect((await waitForEnd(bot, next, 10_000)).status).toBe('succeeded');
    expect(await redis.get(leaseKey(bot.prefix, 'other'))).toBeNull();
  }, 30_000);
});
