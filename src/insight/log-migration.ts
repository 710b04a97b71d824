// Start-up migration of the deployment log's old format. Before the per-environment indexes (src/insight), the log
// was one Redis list `<prefix>:log` of JSON entries, newest first, with a `<prefix>:logged:<id>` marker per deploy.
// Its entries are moved into the indexes once, oldest first, 100 at a time; appending is idempotent (one entry per
// id), so a batch repeated after a crash changes nothing. Processes starting together take turns on a lock, and a
// batch leaves the list only while this process still holds it, so no entry is dropped before it was appended.
import type { Redis } from 'ioredis';
import type { DeployStore, LogEntry } from '../deploys/deploy-store.js';

const BATCH = 100;
const LOCK_MS = 30_000;

/** Removes the batch's entries from the list's tail, only while `token` still holds the lock. */
const TRIM = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('LTRIM', KEYS[1], 0, -1 - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1`;

/** Moves the old list's entries into the log indexes; returns how many it moved (0 when another process is at it). */
export async function migrateOldLog(deps: { redis: Redis; prefix: string; store: DeployStore }): Promise<number> {
  const { redis, prefix, store } = deps;
  const list = `${prefix}:log`;
  if ((await redis.type(list)) !== 'list') return 0;
  const lock = `${prefix}:lock:log-migration`;
  const token = `${process.pid}-${Math.random()}`;
  if ((await redis.set(lock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return 0;
  let moved = 0;
  try {
    for (;;) {
      // The tail holds the oldest entries: appended first, so retention keeps the newest.
      const raws = await redis.lrange(list, -BATCH, -1);
      if (raws.length === 0) break;
      const entries = raws.reverse().flatMap((raw) => {
        try {
          const e = JSON.parse(raw) as LogEntry;
          return e && typeof e.deployId === 'string' && typeof e.env === 'string' && Number.isFinite(e.at) ? [{ ...e, notes: Array.isArray(e.notes) ? e.notes : [] }] : [];
        } catch {
          return []; // an entry that is not JSON cannot be shown anyway
        }
      });
      for (const e of entries) await store.appendLog(e);
      if (entries.length) await redis.del(...entries.map((e) => `${prefix}:logged:${e.deployId}`));
      if ((await redis.eval(TRIM, 2, list, lock, token, String(raws.length), String(LOCK_MS))) !== 1) break;
      moved += entries.length;
    }
  } finally {
    await redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, 1, lock, token);
  }
  return moved;
}
