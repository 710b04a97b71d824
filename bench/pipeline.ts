// Benchmark 2: what a deploy costs Shipmate. No-op pipelines (every step `true`) of 1, 5 and 20 steps across 1, 10
// and 100 environments: deploys/s, request → first step, and — counted, not timed — Redis commands (INFO
// commandstats delta) and Slack calls (the stand-in's log) per deploy. Then the queue: the drain rate and the cost
// per deploy with 450 deploys waiting against an empty queue. Baseline: raw BullMQ add + process of a no-op job
// on the same Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startEmbeddedRedis } from '../src/core/redis.js';
import { startTestBot, type TestBot } from '../tests/helpers/harness.js';
import { firstStepLatencies, pipelineYaml, requestDeploys, settle, waitAllEnded } from './lib/bot.js';
import { callsBetween, commandStats, totalCalls } from './lib/redis-stats.js';
import { percentile, until } from './lib/stats.js';
import { ratio, type Benchmark, type BenchRow } from './lib/types.js';

const STEPS = [1, 5, 20];
const ENVS = [1, 10, 100];
const LATENCY_SAMPLES = 30;
const QUEUED = 450;
const DRAIN_SAMPLE = 30;

interface Baseline {
  jobsPerSec: number;
  cmdsPerJob: number;
}

/** Raw BullMQ on the same Redis: `jobs` no-op jobs spread over `queues` queues (global concurrency 1 each), added then processed. */
async function rawBullmq(url: string, prefix: string, queues: number, jobs: number): Promise<Baseline> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const probe = new Redis(url);
  const qs = Array.from({ length: queues }, (_, i) => new Queue(`q${i}`, { connection, prefix }));
  await Promise.all(qs.map((q) => q.setGlobalConcurrency(1)));
  let done = 0;
  const workers = qs.map((q) => new Worker(q.name, async () => undefined, { connection, prefix, concurrency: 1 }).on('completed', () => done++));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const before = await commandStats(probe);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, (_, i) => qs[i % queues]?.add('job', { i }, { removeOnComplete: { count: 500 }, removeOnFail: { count: 500 } })));
  await until(() => done >= jobs, 60_000, 5);
  const seconds = (performance.now() - t0) / 1000;
  const cmds = totalCalls(await commandStats(probe)) - totalCalls(before) - 1;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(qs.map((q) => q.obliterate({ force: true }).then(() => q.close())));
  connection.disconnect();
  probe.disconnect();
  return { jobsPerSec: jobs / seconds, cmdsPerJob: cmds / jobs };
}

/** Raw BullMQ's add → processor start on an idle queue, `samples` times one after another (ms). */
async function rawBullmqLatency(url: string, prefix: string, samples: number): Promise<number[]> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const q = new Queue<{ at: number }>('lat', { connection, prefix });
  const seen: number[] = [];
  const w = new Worker<{ at: number }>('lat', async (job) => {
    seen.push(Date.now() - job.data.at);
  }, { connection, prefix, concurrency: 1 });
  await w.waitUntilReady();
  for (let i = 0; i < samples; i++) {
    const n = seen.length;
    await q.add('j', { at: Date.now() }, { removeOnComplete: true });
    await until(() => seen.length > n, 5_000, 1);
  }
  await w.close();
  await q.obliterate({ force: true });
  await q.close();
  connection.disconnect();
  return seen;
}

/** Shipmate's request → first step on an idle environment, one deploy at a time. */
async function shipmateLatency(url: string, samples: number): Promise<number[]> {
  const bot = await startTestBot({ configYaml: pipelineYaml(1, 1), redisUrl: url });
  try {
    const out: number[] = [];
    for (let i = 0; i < samples; i++) {
      const [id] = await requestDeploys(bot, [['e0', `v${i}`]]);
      const [r] = await waitAllEnded(bot, [id as string], 10_000);
      if (r) out.push(...firstStepLatencies([r]));
    }
    return out;
  } finally {
    await bot.stop();
  }
}

interface Measured {
  deploysPerSec: number;
  cmdsPerDeploy: number;
  slackPerDeploy: number;
  latency: number[];
  mix: Array<[string, number]>;
  ended: number;
}

/** Requests the deploys, waits for them and for Slack to settle; counts what it cost. */
async function measure(bot: TestBot, probe: Redis, pairs: Array<[string, string]>, timeoutMs: number): Promise<Measured> {
  await settle(bot);
  const before = await commandStats(probe);
  const slackBefore = bot.slack.calls.length;
  const t0 = Date.now();
  const ids = await requestDeploys(bot, pairs);
  const records = await waitAllEnded(bot, ids, timeoutMs);
  const seconds = (Date.now() - t0) / 1000;
  await settle(bot);
  const after = await commandStats(probe);
  const mix = callsBetween(before, after);
  return {
    deploysPerSec: ids.length / seconds,
    cmdsPerDeploy: mix.reduce((n, [, v]) => n + v, 0) / ids.length,
    slackPerDeploy: (bot.slack.calls.length - slackBefore) / ids.length,
    latency: firstStepLatencies(records),
    mix,
    ended: records.filter((r) => r.status === 'succeeded').length,
  };
}

export const benchmark: Benchmark = {
  name: 'pipeline',
  title: 'pipeline cost: no-op steps, environments, queued deploys (Redis as Shipmate manages it: AOF, fsync always)',
  baseline: 'raw BullMQ: add + process a no-op job on the same Redis (queues = environments, global concurrency 1)',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-bench-pipeline-'));
    const redis = await startEmbeddedRedis({ dir });
    const probe = new Redis(redis.url);
    const rows: BenchRow[] = [];
    try {
      const raw = await rawBullmqLatency(redis.url, 'rawlat', LATENCY_SAMPLES);
      const ours = await shipmateLatency(redis.url, LATENCY_SAMPLES);
      const [rp50, rp99, sp50, sp99] = [percentile(raw, 50), percentile(raw, 99), percentile(ours, 50), percentile(ours, 99)];
      ctx.log(`request → first step p50 ${sp50} ms (raw BullMQ add → process ${rp50} ms)`);
      rows.push({ case: 'idle environment, 1 step', metric: 'request → first step p50 ms', shipmate: sp50, baseline: rp50, ratio: ratio(sp50, rp50), target: '≤ baseline + 5 ms', note: `${LATENCY_SAMPLES} one after another; Shipmate's is the signed HTTP request → step start` });
      rows.push({ case: 'idle environment, 1 step', metric: 'request → first step p99 ms', shipmate: sp99, baseline: rp99, ratio: ratio(sp99, rp99) });

      const baselines = new Map<number, Baseline>();
      for (const envs of ENVS) baselines.set(envs, await rawBullmq(redis.url, `raw${envs}`, envs, Math.max(20, envs)));
      const perStep = new Map<number, Measured>();
      for (const envs of ENVS) {
        for (const steps of STEPS) {
          const bot = await startTestBot({ configYaml: pipelineYaml(envs, steps), redisUrl: redis.url });
          try {
            // One deploy first, so start-up work (workers connecting, first messages) is not counted.
            await measure(bot, probe, [['e0', 'warm']], 20_000);
            const n = Math.max(20, envs);
            const m = await measure(bot, probe, Array.from({ length: n }, (_, i) => [`e${i % envs}`, `v${i}`]), 120_000);
            if (envs === 1) perStep.set(steps, m);
            const b = baselines.get(envs) as Baseline;
            ctx.log(`${steps} steps × ${envs} envs: ${m.deploysPerSec.toFixed(1)} deploys/s, ${m.cmdsPerDeploy.toFixed(0)} Redis cmds and ${m.slackPerDeploy.toFixed(1)} Slack calls per deploy`);
            const c = `${steps} step${steps > 1 ? 's' : ''} × ${envs} env${envs > 1 ? 's' : ''}, ${n} deploys`;
            rows.push({ case: c, metric: 'deploys/s', shipmate: m.deploysPerSec, baseline: b.jobsPerSec, ratio: ratio(m.deploysPerSec, b.jobsPerSec), note: `${m.ended}/${n} succeeded; request → first step p50 ${percentile(m.latency, 50)} / p99 ${percentile(m.latency, 99)} ms (queue wait included)` });
            rows.push({ case: c, metric: 'Redis cmds/deploy', shipmate: m.cmdsPerDeploy, baseline: b.cmdsPerJob, ratio: ratio(m.cmdsPerDeploy, b.cmdsPerJob), note: `top: ${m.mix.slice(0, 4).map(([k, v]) => `${k} ${(v / n).toFixed(0)}`).join(', ')}` });
            rows.push({ case: c, metric: 'Slack calls/deploy', shipmate: m.slackPerDeploy, baseline: null });
          } finally {
            await bot.stop();
          }
        }
      }
      const one = perStep.get(1);
      const twenty = perStep.get(20);
      if (one && twenty) {
        rows.push({ case: 'each further step (1 env: 1 → 20 steps)', metric: 'Redis cmds/step', shipmate: (twenty.cmdsPerDeploy - one.cmdsPerDeploy) / 19, baseline: null, target: 'linear, small constant' });
        rows.push({ case: 'each further step (1 env: 1 → 20 steps)', metric: 'Slack calls/step', shipmate: (twenty.slackPerDeploy - one.slackPerDeploy) / 19, baseline: null });
      }

      // The queue: the same one-step deploy drained from an empty queue and from one with 450 waiting.
      const bot = await startTestBot({ configYaml: pipelineYaml(1, 1), redisUrl: redis.url });
      try {
        await measure(bot, probe, [['e0', 'warm']], 20_000);
        const empty = await measure(bot, probe, Array.from({ length: DRAIN_SAMPLE }, (_, i) => ['e0', `a${i}`]), 120_000);
        ctx.log(`empty queue: ${empty.deploysPerSec.toFixed(1)} deploys/s`);
        // Hold the line with a deploy that waits, queue 450 behind it, then let them go and time the first 30.
        const { deps } = bot.shipmate;
        await deps.queues.queue('e0').pause();
        const t0 = Date.now();
        const queued = await requestDeploys(bot, Array.from({ length: QUEUED }, (_, i) => ['e0', `b${i}`]), 16);
        const enqueueSeconds = (Date.now() - t0) / 1000;
        await settle(bot, 120_000);
        const before = await commandStats(probe);
        const slackBefore = bot.slack.calls.length;
        const t1 = Date.now();
        await deps.queues.queue('e0').resume();
        const first = queued.slice(0, DRAIN_SAMPLE);
        const records = await waitAllEnded(bot, first, 120_000);
        const seconds = (Date.now() - t1) / 1000;
        const drained = records.filter((r) => r.status === 'succeeded').length;
        await deps.queues.queue('e0').pause();
        await settle(bot, 60_000);
        const mix = callsBetween(before, await commandStats(probe));
        const cmds = mix.reduce((n, [, v]) => n + v, 0) / drained;
        const slack = (bot.slack.calls.length - slackBefore) / drained;
        const rate = drained / seconds;
        ctx.log(`${QUEUED} queued: ${rate.toFixed(2)} deploys/s, ${cmds.toFixed(0)} Redis cmds per deploy`);
        rows.push({ case: `drain: ${QUEUED} queued vs empty queue (1 step)`, metric: 'deploys/s', shipmate: rate, baseline: empty.deploysPerSec, ratio: ratio(rate, empty.deploysPerSec), target: '≥ 0.5 (within 2×)', note: `baseline here: Shipmate on an empty queue; first ${DRAIN_SAMPLE} of ${QUEUED} timed; enqueueing ${QUEUED} took ${enqueueSeconds.toFixed(1)} s` });
        rows.push({ case: `drain: ${QUEUED} queued vs empty queue (1 step)`, metric: 'Redis cmds/deploy', shipmate: cmds, baseline: empty.cmdsPerDeploy, ratio: ratio(cmds, empty.cmdsPerDeploy), target: 'not growing', note: `top: ${mix.slice(0, 4).map(([k, v]) => `${k} ${(v / drained).toFixed(0)}`).join(', ')}` });
        rows.push({ case: `drain: ${QUEUED} queued vs empty queue (1 step)`, metric: 'Slack calls/deploy', shipmate: slack, baseline: empty.slackPerDeploy, ratio: ratio(slack, empty.slackPerDeploy), target: 'not growing' });
        await deps.queues.queue('e0').obliterate({ force: true }).catch(() => undefined);
      } finally {
        await bot.stop();
      }
      return rows;
    } finally {
      probe.disconnect();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
