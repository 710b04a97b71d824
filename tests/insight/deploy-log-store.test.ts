// The deployment log on a real redis-server: 10,000 entries, filters, paging both ways and retention, with the
// Redis commands each page costs counted from INFO commandstats (bounded, never a walk of the whole log).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployStore, logMember, type LogEntry } from '../../src/deploys/deploy-store.js';
import { startRedis, stopRedis } from '../helpers/harness.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const USERS = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'];
let redis: Redis;
let seq = 0;

beforeAll(async () => {
  redis = new Redis((await startRedis()).url);
});
afterAll(async () => {
  redis.disconnect();
  await stopRedis();
});

/** Entry i of a generated history: every 7th failed, users in turn, one every minute. */
function entry(i: number, env = 'production'): LogEntry {
  return { deployId: String(i), env, version: `v1.0.${i}`, ref: `v1.0.${i}`, deployedBy: USERS[i % 4]!, status: i % 7 === 0 ? 'failed' : 'succeeded', at: T0 + i * MIN, notes: [] };
}

/** Commands Redis ran (scripts' inner calls included) while `fn` ran. */
async function commandsDuring(fn: () => Promise<unknown>): Promise<number> {
  const total = async () => {
    const info = await redis.info('commandstats');
    return [...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter((m) => m[1] !== 'info').reduce((n, m) => n + Number(m[2]), 0);
  };
  const before = await total();
  await fn();
  return (await total()) - before;
}

describe('deployment log store', () => {
  const prefix = `log${++seq}`;
  let store: DeployStore;
  const N = 10_000;

  beforeAll(async () => {
    store = new DeployStore(redis, prefix, () => T0 + N * MIN, undefined, { keep: 50_000, maxAgeMs: 365 * 24 * 60 * MIN });
    // Appended out of order (two workers finishing), and each twice: the log keeps one entry per deploy, in time order.
    const order = Array.from({ length: N }, (_, i) => (i % 2 ? N - i : i));
    for (let i = 0; i < order.length; i += 500) await Promise.all(order.slice(i, i + 500).map((k) => store.appendLog(entry(k))));
    expect(await store.appendLog(entry(5))).toBe(false);
    await store.appendLog({ ...entry(1, 'staging'), deployId: 'staging-1' });
  }, 60_000);

  it('pages newest first, forward and back, with the total, at a bounded cost per page', async () => {
    const first = await store.logPage({ env: 'production', size: 10 });
    expect(first.entries.map((e) => e.deployId)).toEqual(Array.from({ length: 10 }, (_, i) => String(N - 1 - i)));
    expect(first).toMatchObject({ total: N, hasOlder: true, hasNewer: false });
    const second = await store.logPage({ env: 'production', size: 10, cursor: first.last });
    expect(second.entries[0]?.deployId).toBe(String(N - 11));
    expect(second).toMatchObject({ hasOlder: true, hasNewer: true });
    const back = await store.logPage({ env: 'production', size: 10, cursor: second.first, direction: 'newer' });
    expect(back.entries.map((e) => e.deployId)).toEqual(first.entries.map((e) => e.deployId));
    expect(back.hasNewer).toBe(false);
    // Deep in the log costs what the first page costs.
    const deep = logMember(T0 + 20 * MIN, '');
    const last = await store.logPage({ env: 'production', size: 10, cursor: deep });
    expect(last.entries.map((e) => e.deployId)).toEqual(['19', '18', '17', '16', '15', '14', '13', '12', '11', '10']);
    for (const q of [{}, { cursor: deep }, { user: 'U0BOB' }, { status: 'failed' as const }, { user: 'U0BOB', status: 'failed' as const }, { since: T0 + (N - 500) * MIN }]) {
      const cost = await commandsDuring(() => store.logPage({ env: 'production', size: 10, ...q }));
      expect(cost, JSON.stringify(q)).toBeLessThanOrEqual(12);
    }
  });

  it('filters by --since, --user and --status, and both', async () => {
    const since = await store.logPage({ env: 'production', since: T0 + (N - 25) * MIN, size: 100 });
    expect(since.entries).toHaveLength(25);
    expect(since).toMatchObject({ total: 25, hasOlder: false });
    const bob = await store.logPage({ env: 'production', user: 'U0BOB', size: 5 });
    expect(bob.entries.every((e) => e.deployedBy === 'U0BOB')).toBe(true);
    expect(bob.total).toBe(N / 4);
    const failed = await store.logPage({ env: 'production', status: 'failed', size: 5 });
    expect(failed.entries.map((e) => Number(e.deployId) % 7)).toEqual([0, 0, 0, 0, 0]);
    expect(failed.total).toBe(Math.ceil(N / 7));
    const both = await store.logSince('production', 0, { user: 'U0BOB', status: 'failed' });
    // i ≡ 1 (mod 4) and i ≡ 0 (mod 7): i ≡ 21 (mod 28)
    expect(both.map((e) => Number(e.deployId))).toEqual(Array.from({ length: N }, (_, i) => i).filter((i) => i % 28 === 21));
  });

  it('reads the whole filtered log for exports and stats page by page', async () => {
    const all = await store.logSince('production', 0);
    expect(all).toHaveLength(N);
    expect(all[0]?.deployId).toBe('0');
    const cost = await commandsDuring(() => store.logSince('production', 0));
    expect(cost).toBeLessThan(200); // 10 pages of 1,000
    expect((await store.recentLog(3)).map((e) => e.deployId)).toEqual([String(N - 1), String(N - 2), String(N - 3)]);
    expect((await store.recentLog(3, 'staging')).map((e) => e.env)).toEqual(['staging']);
  });
});

describe('deployment log retention', () => {
  it('keeps the configured count per environment and drops what is too old, with the deploys\' audit streams', async () => {
    const prefix = `log${++seq}`;
    let now = T0 + 100 * MIN;
    const store = new DeployStore(redis, prefix, () => now, undefined, { keep: 20, maxAgeMs: 60 * MIN });
    for (let i = 50; i < 100; i++) {
      await redis.xadd(`${prefix}:audit:deploy:${i}`, '*', 'action', 'deploy.requested');
      await store.appendLog(entry(i));
    }
    const kept = await store.logSince('production', 0);
    expect(kept.map((e) => Number(e.deployId))).toEqual(Array.from({ length: 20 }, (_, i) => 80 + i));
    expect(await redis.exists(`${prefix}:audit:deploy:79`)).toBe(0);
    expect(await redis.ttl(`${prefix}:audit:deploy:99`)).toBeGreaterThan(3000);
    expect(await redis.hlen(`${prefix}:log:data`)).toBe(20);
    expect(await redis.zcard(`${prefix}:log:idx:production:user:U0BOB`)).toBe(5);
    now = T0 + 150 * MIN; // only 90..99 are younger than an hour
    await store.appendLog(entry(149));
    expect((await store.logSince('production', 0)).map((e) => Number(e.deployId))).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 149]);
    expect(await redis.zcard(`${prefix}:log:idx`)).toBe(11);
    expect(await redis.exists(`${prefix}:audit:deploy:85`)).toBe(0);
  });
});
