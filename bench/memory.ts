// Benchmark 4: memory. Redis used_memory (INFO memory) and this process's RSS before and after deploys: first
// real one-step deploys (everything a deploy leaves: record, audit streams, log entry, Slack message keys, BullMQ
// job), then the deployment log filled to 10,000 entries through the store's own writes (record created with its
// audit entry, started, finished, log entry, environment state), with the bytes per key family. When the config
// schema on this branch has a `retention` setting, the same figures after the store trims by it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startEmbeddedRedis } from '../src/core/redis.js';
import { parseConfig } from '../src/core/config.js';
import { startTestBot } from '../tests/helpers/harness.js';
import { pipelineYaml, requestDeploys, settle, waitAllEnded } from './lib/bot.js';
import { usedMemory } from './lib/redis-stats.js';
import { ratio, type Benchmark, type BenchRow } from './lib/types.js';

const REAL = 300;
const LOG_TARGET = 10_000;
const ENVS = 10;

/** Bytes per key family under the prefix (MEMORY USAGE of every key), largest first. */
async function byFamily(redis: Redis, prefix: string): Promise<Array<[string, number]>> {
  const out = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k);
    const sizes = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      // The family: the key with ids, numbers and message keys replaced (deploy:12 → deploy:N).
      const family = k.slice(prefix.length + 1).replace(/:(?:deploy|log|status|step|gate)[:\w.-]*$/, ':…').replace(/\d+/g, 'N').replace(/^(bull|dlv:m):?.*/, '$1');
      out.set(family, (out.get(family) ?? 0) + Number(sizes[i]?.[1] ?? 0));
    });
  } while (cursor !== '0');
  return [...out].sort((a, b) => b[1] - a[1]);
}

/** The retention setting, if this branch's config schema knows one (the deployment log's owner adds it). */
function retentionYaml(): string | undefined {
  // `log.keep` (entries kept per environment; src/deploys/deploy-store.ts trims as it appends, audit streams with them).
  for (const candidate of ['log: { keep: 100 }\n']) {
    try {
      parseConfig(`${candidate}${pipelineYaml(1, 1)}`, 'probe.yml', {});
      return candidate;
    } catch {
      // not this shape, or no retention on this branch
    }
  }
  return undefined;
}

export const benchmark: Benchmark = {
  name: 'memory',
  title: `memory: Redis used_memory and RSS, ${REAL} real deploys then the log filled to ${LOG_TARGET.toLocaleString('en-US')} entries`,
  baseline: 'the same figure before the deploys (ratio: after / before)',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-bench-memory-'));
    const redis = await startEmbeddedRedis({ dir });
    const probe = new Redis(redis.url);
    const retention = retentionYaml();
    const bot = await startTestBot({ configYaml: `${retention ?? ''}${pipelineYaml(ENVS, 1)}`, redisUrl: redis.url });
    const rows: BenchRow[] = [];
    try {
      const { deps } = bot.shipmate;
      await settle(bot);
      const mem0 = await usedMemory(probe);
      const rss0 = process.memoryUsage().rss;
      const ids = await requestDeploys(bot, Array.from({ length: REAL }, (_, i) => [`e${i % ENVS}`, `v${i}`]));
      const records = await waitAllEnded(bot, ids, 180_000);
      await settle(bot, 60_000);
      const mem1 = await usedMemory(probe);
      const rss1 = process.memoryUsage().rss;
      const real = records.filter((r) => r.status === 'succeeded').length;
      ctx.log(`${real} real deploys: Redis +${((mem1 - mem0) / real).toFixed(0)} bytes each`);
      const families = await byFamily(probe, deps.prefix);
      const total = families.reduce((n, [, v]) => n + v, 0);
      rows.push({ case: `${REAL} real one-step deploys (${ENVS} envs)`, metric: 'Redis used_memory MB', shipmate: mem1 / 2 ** 20, baseline: mem0 / 2 ** 20, ratio: ratio(mem1, mem0) });
      rows.push({ case: `${REAL} real one-step deploys (${ENVS} envs)`, metric: 'Redis bytes/deploy', shipmate: (mem1 - mem0) / real, baseline: null, target: 'bounded by retention', note: `by key family: ${families.slice(0, 5).map(([k, v]) => `${k} ${Math.round((v / total) * 100)} %`).join(', ')}` });
      rows.push({ case: `${REAL} real one-step deploys (${ENVS} envs)`, metric: 'RSS MB (bench process, Shipmate in it)', shipmate: rss1 / 2 ** 20, baseline: rss0 / 2 ** 20, ratio: ratio(rss1, rss0) });

      // Fill the log to 10,000 through the store's own writes: what each deploy leaves in the store.
      const t0 = Date.now();
      const store = deps.store;
      for (let i = real; i < LOG_TARGET; i++) {
        const env = `e${i % ENVS}`;
        const made = await store.createOnce({ env, ref: `f${i}`, version: `f${i}`, requestedBy: 'U0ALICE', channel: 'C0RELEASES', status: 'queued', steps: [{ name: 'S0', kind: 'run', status: 'pending' }], createdAt: Date.now() }, { audit: { action: 'deploy.requested', user: 'U0ALICE', env } });
        if (!('created' in made)) continue;
        const id = made.created.id;
        const audit = (action: string) => () => [{ action, user: 'U0ALICE', deployId: id, env }];
        await store.update(id, (r) => { r.status = 'running'; r.startedAt = Date.now(); (r.steps[0] as { status: string }).status = 'running'; }, { audit: audit('deploy.started') });
        const done = await store.update(id, (r) => { r.status = 'succeeded'; r.finishedAt = Date.now(); (r.steps[0] as { status: string }).status = 'passed'; }, { audit: audit('deploy.succeeded') });
        await store.appendLog({ deployId: id, env, version: done.version, ref: done.ref, deployedBy: 'U0ALICE', status: 'succeeded', at: Date.now(), durationMs: 5, notes: [] });
        await store.setEnvState({ env, version: done.version, ref: done.ref, deployId: id, deployedBy: 'U0ALICE', at: Date.now() });
      }
      const mem2 = await usedMemory(probe);
      const rss2 = process.memoryUsage().rss;
      const logLength = await probe.hlen(`${deps.prefix}:log:data`);
      ctx.log(`log filled to ${LOG_TARGET} in ${((Date.now() - t0) / 1000).toFixed(0)} s: Redis ${(mem2 / 2 ** 20).toFixed(1)} MB`);
      const fam2 = await byFamily(probe, deps.prefix);
      const total2 = fam2.reduce((n, [, v]) => n + v, 0);
      const logBytes = fam2.filter(([k]) => k === 'log' || k.startsWith('log:')).reduce((n, [, v]) => n + v, 0);
      rows.push({ case: `${LOG_TARGET.toLocaleString('en-US')} deploys (${REAL} real + the rest through the store)`, metric: 'Redis used_memory MB', shipmate: mem2 / 2 ** 20, baseline: mem0 / 2 ** 20, ratio: ratio(mem2, mem0), note: `by key family: ${fam2.slice(0, 5).map(([k, v]) => `${k} ${Math.round((v / total2) * 100)} %`).join(', ')}` });
      rows.push({ case: `${LOG_TARGET.toLocaleString('en-US')} deploys`, metric: 'Redis bytes/deploy (store writes)', shipmate: (mem2 - mem1) / (LOG_TARGET - real), baseline: null, target: 'bounded by retention' });
      rows.push({ case: `${LOG_TARGET.toLocaleString('en-US')} deploys`, metric: 'bytes per log entry', shipmate: logLength ? logBytes / logLength : null, baseline: null, note: `the log holds ${logLength} entries${retention ? ` (retention: ${retention.trim()} per environment, trimmed as entries are added)` : ''}` });
      rows.push({ case: `${LOG_TARGET.toLocaleString('en-US')} deploys`, metric: 'RSS MB (bench process)', shipmate: rss2 / 2 ** 20, baseline: rss0 / 2 ** 20, ratio: ratio(rss2, rss0) });

      // Retention trims as entries are added (the log's entries, their audit streams), so the figures above are with it.
      rows.push({ case: 'retention', metric: '–', shipmate: null, baseline: null, note: retention ? `log.keep 100 per environment: the 10,000 deploys above left ${logLength} log entries; deploy records themselves are not trimmed yet` : 'no retention setting in the config schema' });
      return rows;
    } finally {
      await bot.stop();
      probe.disconnect();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
