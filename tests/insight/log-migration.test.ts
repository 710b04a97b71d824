// The old deployment log (one Redis list, newest first) moved into the per-environment indexes at start-up: once,
// in batches, safe when two processes start together, and the list removed; on a real redis-server and a real bot.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployStore, type LogEntry } from '../../src/deploys/deploy-store.js';
import { migrateOldLog } from '../../src/insight/log-migration.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { startRedis, startTestBot, stopRedis } from '../helpers/harness.js';

const MIN = 60_000;
let redis: Redis;
let url: string;

beforeAll(async () => {
  url = (await startRedis()).url;
  redis = new Redis(url);
});
afterAll(async () => {
  redis.disconnect();
  await stopRedis();
});

/** The old format: LPUSHed JSON entries (so the newest is first) and a `logged:<id>` marker per deploy. */
async function seedOldLog(prefix: string, n: number, now: number): Promise<void> {
  const envs = ['staging', 'production'];
  for (let i = 0; i < n; i += 100) {
    const tx = redis.multi();
    for (let k = i; k < Math.min(n, i + 100); k++) {
      const e: LogEntry = { deployId: String(k + 1), env: envs[k % 2]!, version: `v0.${k}`, ref: `v0.${k}`, deployedBy: 'U0ALICE', status: k % 4 === 3 ? 'failed' : 'succeeded', at: now - (n - k) * MIN, notes: [`note ${k}`] };
      tx.lpush(`${prefix}:log`, JSON.stringify(k === 0 ? { ...e, kind: 'rollback' } : e)).set(`${prefix}:logged:${e.deployId}`, '1');
    }
    await tx.exec();
  }
  await redis.lpush(`${prefix}:log`, 'not json');
}

describe('old deployment log migration', () => {
  it('moves every entry into the indexes once, even with two processes at it together, and removes the list', async () => {
    const prefix = 'mig1';
    const now = Date.now();
    await seedOldLog(prefix, 1000, now);
    const a = new DeployStore(redis, prefix, () => now);
    const b = new DeployStore(redis, prefix, () => now);
    const [n1, n2] = await Promise.all([migrateOldLog({ redis, prefix, store: a }), migrateOldLog({ redis, prefix, store: b })]);
    expect(n1 + n2).toBe(1000);
    expect(Math.min(n1, n2)).toBe(0); // one took the lock, the other left it alone
    expect(await redis.exists(`${prefix}:log`)).toBe(0);
    expect(await redis.keys(`${prefix}:logged:*`)).toEqual([]);
    const prod = await a.logSince('production', 0);
    expect(prod).toHaveLength(500);
    expect(prod.map((e) => e.version).slice(0, 2)).toEqual(['v0.1', 'v0.3']); // oldest first, in time order
    expect((await a.logSince('staging', 0))[0]).toMatchObject({ deployId: '1', kind: 'rollback', notes: ['note 0'] });
    expect((await a.logPage({ env: 'production', status: 'failed', size: 5 })).total).toBe(250);
    // Again: nothing left to move, nothing doubled.
    expect(await migrateOldLog({ redis, prefix, store: a })).toBe(0);
    expect(await redis.hlen(`${prefix}:log:data`)).toBe(1000);
  });

  it('a run cut short (its lock lost) leaves the rest of the list for the next start, losing nothing', async () => {
    const prefix = 'mig2';
    const now = Date.now();
    await seedOldLog(prefix, 250, now);
    const store = new DeployStore(redis, prefix, () => now);
    // Another process's lock: this start moves nothing and the list stays whole.
    await redis.set(`${prefix}:lock:log-migration`, 'someone-else', 'PX', 60_000);
    expect(await migrateOldLog({ redis, prefix, store })).toBe(0);
    expect(await redis.llen(`${prefix}:log`)).toBe(251);
    await redis.del(`${prefix}:lock:log-migration`); // that process died; its lock expired
    expect(await migrateOldLog({ redis, prefix, store })).toBe(250);
    expect(await redis.hlen(`${prefix}:log:data`)).toBe(250);
  });

  it('runs when Shipmate starts: the old entries show in /deploys log', async () => {
    const prefix = `mig3x${Date.now().toString(36)}`;
    await seedOldLog(prefix, 30, Date.now());
    const bot = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl: url, prefix });
    try {
      expect(await redis.exists(`${prefix}:log`)).toBe(0);
      const res = await bot.command('/deploys', 'log production');
      expect(JSON.stringify(res.json.blocks)).toContain('`v0.29`');
      expect(JSON.stringify(res.json.blocks)).toContain('15 entries');
    } finally {
      await bot.stop();
    }
  });
});
