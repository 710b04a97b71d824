// Flags in Redis: one hash of JSON documents (field = flag key), a version counter bumped by every write (the
// OFREP routes reload their snapshot when it moves), a history list per flag, and the shared audit stream.
// Every write is one Lua script: the revision check, the write, the version bump, the history entry and the
// audit entry happen together or not at all, so two clicks on the same card can never both apply.
import type { Redis } from 'ioredis';
import { maskDeep, type Masker } from '../core/mask.js';
import { RedisClock } from '../core/redis.js';
import type { Flag } from './evaluation.js';

/** One line of a flag's history (and of the audit stream): who, when, where, before → after, why. */
export interface FlagHistoryEntry {
  at: number;
  user: string;
  action: 'create' | 'change' | 'kill' | 'archive' | 'refused' | 'signoff-requested' | 'approved' | 'rejected' | 'signed-off';
  env?: string;
  before?: string;
  after?: string;
  reason?: string;
  /** The change's own id (from a command), so its outcome can be looked up when Redis did not confirm it in time. */
  id?: string;
  /** The flag revision this entry wrote. */
  rev?: number;
}

/**
 * KEYS: flags hash, version counter, history list, audit stream. ARGV: flag key, expected rev ('0' = must not
 * exist), new JSON ('' = write nothing: a refusal only records history/audit), history JSON, audit fields JSON,
 * deadline in Redis' ms ('' = none). Returns 1 written, 0 revision conflict, -1 missing, -2 exists already,
 * -3 too late: a script a stalled server runs after the request gave up on it writes nothing.
 */
const WRITE = `
if ARGV[6] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[6]) then return -3 end
end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then
  if ARGV[2] == '0' then
    if cur then return -2 end
  else
    if not cur then return -1 end
    if tostring(cjson.decode(cur)['rev']) ~= ARGV[2] then return 0 end
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('INCR', KEYS[2])
end
redis.call('LPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], 0, 499)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', unpack(cjson.decode(ARGV[5])))
return 1`;

export type WriteResult = 'ok' | 'conflict' | 'missing' | 'exists' | 'expired';

export class FlagStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly mask: Masker = (t) => t,
  ) {}

  private k(...parts: string[]): string {
    return [this.prefix, 'flags', ...parts].join(':');
  }

  async get(key: string): Promise<Flag | undefined> {
    const raw = await this.redis.hget(this.k('all'), key);
    return raw ? (JSON.parse(raw) as Flag) : undefined;
  }

  async all(): Promise<Flag[]> {
    const raws = await this.redis.hgetall(this.k('all'));
    return Object.values(raws).map((r) => JSON.parse(r) as Flag).sort((a, b) => a.key.localeCompare(b.key));
  }

  /** The write counter: unchanged means no flag changed since it was read. */
  async version(): Promise<string> {
    return (await this.redis.get(this.k('ver'))) ?? '0';
  }

  /** The counter and every flag, read together (MULTI), for a consistent snapshot. */
  async snapshot(): Promise<{ version: string; flags: Flag[] }> {
    const res = await this.redis.multi().get(this.k('ver')).hgetall(this.k('all')).exec();
    if (!res) throw new Error('flag snapshot transaction aborted');
    const [[e1, ver], [e2, raws]] = res as [[Error | null, string | null], [Error | null, Record<string, string>]];
    if (e1 ?? e2) throw (e1 ?? e2) as Error;
    return { version: ver ?? '0', flags: Object.values(raws).map((r) => JSON.parse(r) as Flag) };
  }

  /**
   * Writes `next` if the stored flag still has revision `expectedRev` (0: only if there is none), with its
   * history and audit entry; with `next` undefined, records only the entry (a refusal).
   */
  async write(key: string, expectedRev: number, next: Flag | undefined, entry: FlagHistoryEntry, opts: { validForMs?: number } = {}): Promise<WriteResult> {
    const notAfter = opts.validForMs === undefined ? '' : String(Date.now() + (await this.redisClockOffset()) + opts.validForMs);
    const masked = maskDeep(entry, this.mask);
    const fields = Object.entries({ action: `flag.${entry.action}`, user: entry.user, env: entry.env, detail: detailOf(key, masked), at: String(entry.at) })
      .flatMap(([f, v]) => (v === undefined ? [] : [f, v]));
    const ok = (await this.redis.eval(
      WRITE, 4, this.k('all'), this.k('ver'), this.k('history', key), `${this.prefix}:audit`,
      key, String(expectedRev), next ? JSON.stringify(maskDeep(next, this.mask)) : '', JSON.stringify(masked), JSON.stringify(fields), notAfter,
    )) as number;
    return ok === 1 ? 'ok' : ok === 0 ? 'conflict' : ok === -1 ? 'missing' : ok === -3 ? 'expired' : 'exists';
  }

  private clock?: RedisClock;

  /** Redis' clock minus ours (ms), so a deadline handed to the script is in Redis' own time (core/redis.ts). */
  private redisClockOffset(): Promise<number> {
    return (this.clock ??= new RedisClock(this.redis)).offsetMs();
  }

  async history(key: string, count = 20): Promise<FlagHistoryEntry[]> {
    return (await this.redis.lrange(this.k('history', key), 0, count - 1)).map((r) => JSON.parse(r) as FlagHistoryEntry);
  }

  /**
   * A line in the flag's history only: for sign-off steps, whose audit entries the sign-off gate writes in the
   * same script as the step itself (src/gates/subject-gates.ts).
   */
  async note(key: string, entry: FlagHistoryEntry): Promise<void> {
    await this.redis.multi().lpush(this.k('history', key), JSON.stringify(maskDeep(entry, this.mask))).ltrim(this.k('history', key), 0, 499).exec();
  }
}

function detailOf(key: string, e: FlagHistoryEntry): string {
  return `${key}${e.before !== undefined || e.after !== undefined ? `: ${e.before ?? '—'} -> ${e.after ?? '—'}` : ''}${e.reason ? ` (${e.reason})` : ''}`;
}
