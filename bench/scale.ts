// Benchmark 3: scale-out. The same I/O-bound workload (two steps that each wait 100 ms, in eight environments) on
// 1, 2 and 4 worker processes (src/main.ts --role worker) sharing one Redis, requests through the receiver of an
// app-only Shipmate; then the same on a local three-master Redis Cluster (redis-cluster:// REDIS_URL, nothing else
// changed). Throughput, and a check that no environment ever ran two deploys at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis } from '../src/core/redis.js';
import { startSlackStandin } from '../playground/slack-standin/server.js';
import { BOT_TOKEN, startTestBot } from '../tests/helpers/harness.js';
import { startRedisCluster } from '../tests/helpers/redis-cluster.js';
import { spawnWorker, writeConfig, type WorkerProcess } from '../tests/helpers/worker-process.js';
import { overlaps, pipelineYaml, requestDeploys, waitAllEnded } from './lib/bot.js';
import { until } from './lib/stats.js';
import { ratio, type Benchmark, type BenchRow } from './lib/types.js';

const PROCESSES = [1, 2, 4];
const ENVS = 8;
const DEPLOYS = 48;
const YAML = pipelineYaml(ENVS, 2, ['sleep', '0.1']);

interface Outcome {
  deploysPerSec: number;
  overlaps: number;
  succeeded: number;
}

async function workload(redisUrl: string, processes: number, prefix: string): Promise<Outcome> {
  const slack = await startSlackStandin({ token: BOT_TOKEN });
  const app = await startTestBot({ configYaml: YAML, redisUrl, role: 'app', slack, prefix });
  const configFile = writeConfig(YAML);
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < processes; i++) workers.push(spawnWorker({ configFile, redisUrl, prefix, slackApiUrl: slack.url, lockMs: 5_000, env: { LOG_LEVEL: 'warn' } }));
    // A worker is ready once it has registered with its queues (BullMQ lists its workers).
    const queue = app.shipmate.deps.queues.queue('e0');
    const ready = await until(async () => (await queue.getWorkersCount()) >= processes, 60_000, 100);
    if (!ready) throw new Error(`workers did not start: ${workers.map((w) => w.output()).join('\n').slice(-2000)}`);
    const t0 = Date.now();
    const ids = await requestDeploys(app, Array.from({ length: DEPLOYS }, (_, i) => [`e${i % ENVS}`, `v${i}`]));
    const records = await waitAllEnded(app, ids, 120_000);
    const seconds = (Date.now() - t0) / 1000;
    return { deploysPerSec: DEPLOYS / seconds, overlaps: overlaps(records), succeeded: records.filter((r) => r.status === 'succeeded').length };
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => Promise.race([w.exited, new Promise((ok) => setTimeout(ok, 10_000))])));
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await app.stop();
    await slack.close();
  }
}

export const benchmark: Benchmark = {
  name: 'scale',
  title: `scale-out: ${DEPLOYS} deploys of two 100 ms steps over ${ENVS} environments, 1/2/4 worker processes, one Redis and a 3-master Redis Cluster (both AOF, fsync always)`,
  baseline: 'the same workload on 1 worker process (for the cluster: the same process count on one Redis)',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-bench-scale-'));
    const single = new Map<number, Outcome>();
    const redis = await startEmbeddedRedis({ dir });
    try {
      for (const p of PROCESSES) {
        const o = await workload(redis.url, p, `scale${p}`);
        single.set(p, o);
        ctx.log(`one Redis, ${p} worker process(es): ${o.deploysPerSec.toFixed(2)} deploys/s, overlaps ${o.overlaps}`);
        const one = single.get(1) as Outcome;
        rows.push({ case: `one Redis · ${p} worker process${p > 1 ? 'es' : ''}`, metric: 'deploys/s', shipmate: o.deploysPerSec, baseline: one.deploysPerSec, ratio: ratio(o.deploysPerSec, one.deploysPerSec), note: `${o.succeeded}/${DEPLOYS} succeeded; ${o.overlaps} environment overlaps` });
      }
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    // Persisted like the single Redis (AOF, fsync always), so the comparison is of topology, not durability.
    const cluster = await startRedisCluster(3, { aof: true });
    try {
      for (const p of PROCESSES) {
        const o = await workload(cluster.url, p, `cscale${p}`);
        ctx.log(`cluster, ${p} worker process(es): ${o.deploysPerSec.toFixed(2)} deploys/s, overlaps ${o.overlaps}`);
        const base = single.get(p) as Outcome;
        rows.push({ case: `3-master cluster · ${p} worker process${p > 1 ? 'es' : ''}`, metric: 'deploys/s', shipmate: o.deploysPerSec, baseline: base.deploysPerSec, ratio: ratio(o.deploysPerSec, base.deploysPerSec), note: `${o.succeeded}/${DEPLOYS} succeeded; ${o.overlaps} environment overlaps` });
      }
    } finally {
      await cluster.stop();
    }
    return rows;
  },
};
