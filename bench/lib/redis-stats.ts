// What Redis did, counted: total calls from INFO commandstats (per command for the mix) and used_memory.
import type { Redis } from 'ioredis';

export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

export function totalCalls(stats: Map<string, number>): number {
  let n = 0;
  for (const v of stats.values()) n += v;
  return n;
}

/** Calls made between two snapshots, per command, largest first (the bench's own INFO calls left out). */
export function callsBetween(before: Map<string, number>, after: Map<string, number>): Array<[string, number]> {
  return [...after].map(([k, v]): [string, number] => [k, v - (before.get(k) ?? 0) - (k === 'info' ? 1 : 0)]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}
