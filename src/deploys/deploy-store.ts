// Deploy records, environment state and the deployment log, kept in Redis under one key prefix.
// Records are JSON documents updated read-modify-write with a revision check, so concurrent
// writers (worker, cancel button, gate ticks) never lose each other's changes. Everything written is
// passed through the secret masker first, so no secret reaches Redis in clear text.
import type { Redis } from 'ioredis';
import { maskDeep, type Masker } from '../core/mask.js';
import { RedisClock, RedisTooSlowError } from '../core/redis.js';
import type { GateState } from '../gates/gate-rules.js';
import type { CommitInfo } from '../versions/resolver.js';
import type { WatchRequest, WatchState } from '../canary/watch-state.js';

export type DeployStatus = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'rejected';
/** The kinds of change a job makes to an environment (see DeployRecord.kind). */
export type ChangeKind = 'deploy' | 'rollback' | 'migrate' | 'hotfix';

export type StepStatus = 'pending' | 'running' | 'passed' | 'failed' | 'skipped' | 'cancelled' | 'interrupted';

export const FINAL_STATUSES: readonly DeployStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted', 'rejected'];

export function isFinal(status: DeployStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export interface StepState {
  name: string;
  kind: 'run' | 'http' | 'github-workflow' | 'canary' | 'monitor';
  status: StepStatus;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  exitCode?: number | null;
  error?: string;
  /** Thread message holding this step's output. */
  outputTs?: string;
  /** While the step runs: its process group and the host it runs on, so a later run can kill what a dead worker left. */
  pgid?: number;
  host?: string;
  /** A github-workflow step's run: stored before the dispatch (so a restart never dispatches again) and once found. */
  workflowRun?: { dispatchedAt: number; runId?: number; url?: string };
  /** A canary or monitor step's watch (src/canary): kept here so a restarted worker resumes the hold where it stood. */
  watch?: WatchState;
  /** A Promote / Pause / Resume / Abort click waiting for the running watch to take it up. */
  watchRequest?: WatchRequest;
}

/** Where versions are commits (a `repository` is configured): what a ref named when it was resolved. */
export interface CommitFields {
  /** The full commit SHA the ref resolved to at request time. */
  sha?: string;
  /** Set when the ref is a tag. */
  tag?: string;
}

export interface DeployRecord extends CommitFields {
  id: string;
  env: string;
  ref: string;
  /** The tag, else the ref as typed. */
  version: string;
  /** What the environment ran when this deploy started (set by the worker). */
  previousSha?: string;
  /** The commits going out (newest first, capped) and how many there are in all; set by the worker at start. */
  commits?: CommitInfo[];
  commitCount?: number;
  /** When the oldest commit going out was made (ms), for lead time; set by the worker at start. */
  firstCommitAt?: number;
  requestedBy: string;
  channel: string;
  status: DeployStatus;
  steps: StepState[];
  createdAt: number;
  queuedAt?: number;
  /** With `notifications.ahead`: the earliest the deploy may start (stakeholders were told this time). */
  startsAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** The channel message that shows this deploy's live status. */
  statusTs?: string;
  cancelRequestedBy?: string;
  cancelledBy?: string;
  error?: string;
  /**
   * What the job does; every kind goes through the environment's one queue, so changes never overlap.
   * 'rollback' puts a previous good version back (`rollbackFrom`: the version it replaces, `reason`: why) and
   * runs the environment's `rollback.steps` when configured; 'migrate' runs a migration's own steps;
   * 'hotfix' may pass an environment lock when its config allows.
   */
  kind?: ChangeKind;
  rollbackFrom?: string;
  /** The commit the rollback replaces ({{rollbackFromSha}}), where versions are commits. */
  rollbackFromSha?: string;
  /** Why (rollbacks: the reason given to /rollback; it also becomes the environment lock's reason). */
  reason?: string;
  /** kind 'migrate': the migration (src/migrations), which way it runs, and whether it waits for an override outside the window. */
  migration?: { name: string; rollback: boolean; override?: { role: string; reason: string } };
  /** Set when a worker shut down gracefully and handed the deploy back at a step boundary. */
  handedBack?: boolean;
  /** A canary/monitor waiting for its next evaluation holds no worker: its wake-up job runs it then (jobs/deploy.ts). */
  parkedUntil?: number;
  /** How many worker runs picked this deploy up (more than one means a crash or a hand-back). */
  runs: number;
  /** The worker run that owns the deploy now (its BullMQ lock token); fenced writes check it. */
  runToken?: string;
  notes: string[];
  logged?: boolean;
  /** Checklist and sign-offs, for environments that have gates; the deploy is 'pending' until they are met. */
  gates?: GateState;
  /** `/deploy --quiet` / `--notify #channel`: who besides the environment's stakeholders hears of it (src/notify). */
  notify?: { quiet?: boolean; channels?: string[] };
  /** The GitHub Deployment that mirrors this deploy, and the deploy it replaces (whose deployment ends inactive). */
  github?: { deploymentId?: number; replaces?: string; state?: 'queued' | 'in_progress' | 'success' | 'failure' | 'error' };
  /** A deploy made by /release or /hotfix (src/releases), or marked `--kind`: the release kind whose rules its gates follow. */
  release?: { id?: string; type?: 'release' | 'hotfix'; kind?: string };
  rev: number;
}

export interface EnvState extends CommitFields {
  env: string;
  version: string;
  ref: string;
  deployId: string;
  deployedBy: string;
  at: number;
}

/** What a log entry records: deploys and the other changes of an environment's timeline (see src/insight/). */
export type LogKind = 'deploy' | 'rollback' | 'hotfix' | 'migrate' | 'flag' | 'lock';

export interface LogEntry extends CommitFields {
  /** The deploy's id; entries that are not deploys (a flag change, a lock) use a unique id of their own, e.g. `flag:17`. */
  deployId: string;
  env: string;
  version: string;
  ref: string;
  deployedBy: string;
  status: DeployStatus;
  at: number;
  durationMs?: number;
  notes: string[];
  /** A rollback's entry says so ("Rollback succeeded"), not a plain "Succeeded". */
  kind?: LogKind;
  /** When the oldest commit the deploy ships was made (lead time for changes starts there). */
  firstCommitAt?: number;
}

/** How long the deployment log (and each finished deploy's own audit stream) is kept: whichever limit comes first. */
export interface LogRetention {
  /** Entries kept per environment. */
  keep: number;
  /** Entries older than this (ms) are dropped. */
  maxAgeMs: number;
}

export const DEFAULT_LOG_RETENTION: LogRetention = { keep: 5000, maxAgeMs: 400 * 24 * 3_600_000 };

/** A page of the log, newest first, and the cursors to the pages either side. */
export interface LogPage {
  entries: LogEntry[];
  /** Cursor of the newest and oldest entry shown (to page towards newer / older entries). */
  first?: string;
  last?: string;
  hasOlder: boolean;
  hasNewer: boolean;
  /** How many entries the filter matches in all, when one index answers it (no second filter). */
  total?: number;
  /** Entries looked at to fill the page (bounded: see LOG_PAGE_BUDGET). */
  examined: number;
}

export interface LogQuery {
  env: string;
  since?: number;
  user?: string;
  status?: DeployStatus;
  /** Page from this cursor: `older` than it (default from the newest) or `newer` than it. */
  cursor?: string;
  direction?: 'older' | 'newer';
  size?: number;
}

/** At most this many entries are looked at for one page (a --user and --status filter walks one index and checks the other). */
export const LOG_PAGE_BUDGET = 400;

/**
 * Sets the record only if its stored revision is the one the caller read, and
 * - a fenced write (ARGV[3] not empty) only while the record still belongs to that worker run (`runToken`);
 * - a final status (succeeded, failed, …) is never changed;
 * - the audit entries of the change (ARGV[4], a JSON array of field lists) go into the global and the
 *   per-deploy streams in the same atomic step, so the trail records exactly what took effect.
 * Returns 1 when written, 0 on a revision conflict, -1 when fenced off, -2 when a final status would change.
 */
const UPDATE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local rev = 0
local cur = nil
if current then cur = cjson.decode(current); rev = cur['rev'] or 0 end
if tonumber(ARGV[1]) ~= rev then return 0 end
local nxt = cjson.decode(ARGV[2])
if cur then
  if ARGV[3] ~= '' and cur['runToken'] ~= ARGV[3] then return -1 end
  local final = { succeeded = true, failed = true, cancelled = true, interrupted = true, rejected = true }
  if final[cur['status']] and nxt['status'] ~= cur['status'] then return -2 end
end
redis.call('SET', KEYS[1], ARGV[2])
local entries = cjson.decode(ARGV[4])
for _, fields in ipairs(entries) do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', unpack(fields))
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '1000', '*', unpack(fields))
end
return 1`;

/** A delivery key is kept this long: Slack redelivers within minutes, people retype much later. */
const DELIVERY_TTL_S = 3600;

/**
 * KEYS: sequence, active set, delivery key (used only when ARGV[11] is '1'), audit stream. ARGV: record JSON
 * without its id, record key prefix, delivery TTL, '1' to refuse a duplicate, env, version, kind, audit fields
 * JSON ('' for none), per-deploy audit key prefix, deadline in Redis' ms ('' for none), '1' when there is a
 * delivery key. The record and per-deploy audit keys are built here from their prefixes: they share the
 * declared keys' hash slot on a Redis Cluster, whose prefix is a hash tag (see keyPrefixFor). Returns {'created'|'repeat'|
 * 'duplicate', id} or {'expired', ''}: a script that a stalled server runs after the caller has given up on
 * it writes nothing. The active set holds only unfinished deploys, so the duplicate scan stays short; the
 * record JSON is spliced, not re-encoded (cjson would turn empty arrays into objects).
 */
const CREATE_ONCE_SCRIPT = `
if ARGV[10] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[10]) then return {'expired', ''} end
end
if ARGV[11] == '1' then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {'repeat', seen} end
end
if ARGV[4] == '1' then
  for _, other in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local raw = redis.call('GET', ARGV[2] .. other)
    if raw then
      local r = cjson.decode(raw)
      if (r['status'] == 'pending' or r['status'] == 'queued') and r['env'] == ARGV[5] and r['version'] == ARGV[6] and (r['kind'] or 'deploy') == ARGV[7] then
        return {'duplicate', other}
      end
    end
  end
end
local id = tostring(redis.call('INCR', KEYS[1]))
redis.call('SET', ARGV[2] .. id, '{"id":' .. cjson.encode(id) .. ',' .. string.sub(ARGV[1], 2))
redis.call('SADD', KEYS[2], id)
if ARGV[11] == '1' then redis.call('SET', KEYS[3], id, 'EX', tonumber(ARGV[3])) end
if ARGV[8] ~= '' then
  local fields = cjson.decode(ARGV[8])
  table.insert(fields, 'deployId')
  table.insert(fields, id)
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', unpack(fields))
  redis.call('XADD', ARGV[9] .. id, 'MAXLEN', '~', '1000', '*', unpack(fields))
end
return {'created', id}`;

export type NewDeploy = Omit<DeployRecord, 'id' | 'rev' | 'runs' | 'notes'> & Partial<Pick<DeployRecord, 'notes'>>;
export type CreateOnceResult = { created: DeployRecord } | { existing: string; reason: 'repeat' | 'duplicate' };

/** A worker's write refused because another run now owns the deploy (this worker lost its lock). */
export class FencedError extends Error {
  constructor(readonly deployId: string) {
    super(`deploy ${deployId} belongs to another worker run now; this run's write was refused`);
    this.name = 'FencedError';
  }
}

export interface UpdateOptions {
  /** Refuse the write (FencedError) unless the record's `runToken` is still this one. */
  fence?: string;
  /** Audit entries for what this change did; written in the same atomic step as the record. */
  audit?: (next: DeployRecord, previous: DeployRecord) => AuditEntry[];
}

/**
 * The masker of the store that writes through a Redis connection. audit() is called with the connection
 * (from many places), not the store, so it finds its masker here and every audit entry is masked too.
 */
const connectionMaskers = new WeakMap<Redis, Masker>();
const noMask: Masker = (text) => text;

export class DeployStore {
  private readonly mask: Masker;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly now: () => number = Date.now,
    /** Applied to every string written (records, audit entries, environment state, log entries). */
    mask?: Masker,
    private readonly retention: LogRetention = DEFAULT_LOG_RETENTION,
  ) {
    this.mask = mask ?? noMask;
    if (mask) connectionMaskers.set(redis, mask);
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async nextId(): Promise<string> {
    return String(await this.redis.incr(this.key('seq', 'deploy')));
  }

  async create(record: Omit<DeployRecord, 'rev' | 'runs' | 'notes'> & Partial<Pick<DeployRecord, 'notes'>>): Promise<DeployRecord> {
    const full: DeployRecord = maskDeep({ notes: [], ...record, runs: 0, rev: 1 }, this.mask);
    await this.redis
      .multi()
      .set(this.key('deploy', full.id), JSON.stringify(full))
      .sadd(this.key('active'), full.id)
      .exec();
    return full;
  }

  /**
   * Creates a deploy at most once, in one atomic step (see CREATE_ONCE_SCRIPT): a repeated delivery of the
   * same request (same `delivery` key, e.g. Slack's trigger_id) and, with `unique`, a request for a version
   * already pending or queued for that environment return the existing deploy's id instead of a new one.
   * The id is taken, the record stored and its audit entry written only when it is really created.
   */
  async createOnce(record: NewDeploy, opts: { delivery?: string; unique?: boolean; audit?: AuditEntry; validForMs?: number } = {}): Promise<CreateOnceResult> {
    const full = maskDeep({ notes: [], ...record, runs: 0, rev: 1 }, this.mask);
    const auditEntry = opts.audit ? JSON.stringify(auditFields(opts.audit, this.now(), this.mask)) : '';
    const notAfter = opts.validForMs === undefined ? '' : String(Date.now() + (await this.redisClockOffset()) + opts.validForMs);
    const [outcome, id] = (await this.redis.eval(
      // Without a delivery key KEYS[3] is still a real key of this prefix: an empty name would hash to another cluster slot.
      CREATE_ONCE_SCRIPT, 4, this.key('seq', 'deploy'), this.key('active'), this.key('delivery', opts.delivery ?? ''), this.key('audit'),
      JSON.stringify(full), this.key('deploy', ''), String(DELIVERY_TTL_S), opts.unique ? '1' : '', full.env, full.version, full.kind ?? 'deploy', auditEntry, this.key('audit', 'deploy', ''), notAfter, opts.delivery ? '1' : '',
    )) as [string, string];
    if (outcome === 'created') return { created: { id, ...full } };
    if (outcome === 'expired') throw new RedisTooSlowError('the deploy record');
    return { existing: id, reason: outcome as 'repeat' | 'duplicate' };
  }

  private clock?: RedisClock;

  /** Redis' clock minus ours (ms), so a deadline handed to the script is in Redis' own time (core/redis.ts). */
  private redisClockOffset(): Promise<number> {
    return (this.clock ??= new RedisClock(this.redis)).offsetMs();
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    const raw = await this.redis.get(this.key('deploy', id));
    return raw ? (JSON.parse(raw) as DeployRecord) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<DeployRecord[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('deploy', id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as DeployRecord);
  }

  /**
   * Applies `change` to the latest record and stores it, retrying when someone else wrote in between.
   * `change` may return false to leave the record as it is. Returns the stored record. A final status is
   * never changed (the change is dropped and the stored record returned); a fenced write from a run that no
   * longer owns the deploy throws FencedError.
   */
  async update(id: string, change: (record: DeployRecord) => void | false, opts: UpdateOptions = {}): Promise<DeployRecord> {
    return (await this.updateApplied(id, change, opts)).record;
  }

  /** update(), also saying whether this call's change is the one that was stored (false: dropped or refused). */
  async updateApplied(id: string, change: (record: DeployRecord) => void | false, opts: UpdateOptions = {}): Promise<{ record: DeployRecord; applied: boolean }> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = await this.get(id);
      if (!current) throw new Error(`deploy ${id} not found`);
      if (opts.fence !== undefined && current.runToken !== opts.fence) throw new FencedError(id);
      const next = structuredClone(current);
      if (change(next) === false) return { record: current, applied: false };
      if (isFinal(current.status) && next.status !== current.status) return { record: current, applied: false };
      next.rev = current.rev + 1;
      const entries = (opts.audit?.(next, current) ?? []).map((e) => auditFields(e, this.now(), this.mask));
      // What is stored (and returned, so callers render what Redis holds) is the masked record.
      const stored = maskDeep(next, this.mask);
      const ok = await this.redis.eval(
        UPDATE_SCRIPT, 3, this.key('deploy', id), this.key('audit'), this.key('audit', 'deploy', id),
        String(current.rev), JSON.stringify(stored), opts.fence ?? '', JSON.stringify(entries),
      );
      if (ok === 1) {
        if (isFinal(stored.status)) await this.redis.srem(this.key('active'), id);
        return { record: stored, applied: true };
      }
      if (ok === -1) throw new FencedError(id);
      if (ok === -2) return { record: (await this.get(id)) ?? current, applied: false };
    }
    throw new Error(`deploy ${id}: too many concurrent updates`);
  }

  /** Deploys not yet finished (pending, queued, running), oldest first. */
  async active(): Promise<DeployRecord[]> {
    const ids = await this.redis.smembers(this.key('active'));
    const records = await this.getMany(ids);
    return records.sort((a, b) => Number(a.id) - Number(b.id));
  }

  async setEnvState(unmasked: EnvState): Promise<void> {
    const state = maskDeep(unmasked, this.mask);
    await this.redis
      .multi()
      .hset(this.key('env', state.env), 'current', JSON.stringify(state))
      .lpush(this.key('env', state.env, 'history'), JSON.stringify(state))
      .ltrim(this.key('env', state.env, 'history'), 0, 99)
      .exec();
  }

  async envState(env: string): Promise<EnvState | undefined> {
    const raw = await this.redis.hget(this.key('env', env), 'current');
    return raw ? (JSON.parse(raw) as EnvState) : undefined;
  }

  /**
   * Remembers that this version succeeded on `env` (for promotion rules): its commit when it has one — so a
   * branch that has moved since is a different version — else its name.
   */
  async markSucceeded(env: string, version: VersionKey, at: number): Promise<void> {
    await this.redis.hset(this.key('env', env, 'succeeded'), this.mask(succeededField(version)), String(at));
  }

  /** The environment's successful deploys, newest first (for rollbacks). */
  async history(env: string, count = 50): Promise<EnvState[]> {
    const raws = await this.redis.lrange(this.key('env', env, 'history'), 0, count - 1);
    return raws.map((r) => JSON.parse(r) as EnvState);
  }

  /** When this version last succeeded on `env` (for soak times), or undefined. */
  async succeededAt(env: string, version: VersionKey): Promise<number | undefined> {
    const at = await this.redis.hget(this.key('env', env, 'succeeded'), this.mask(succeededField(version)));
    return at === null ? undefined : Number(at);
  }

  async hasSucceeded(env: string, version: VersionKey): Promise<boolean> {
    return (await this.redis.hexists(this.key('env', env, 'succeeded'), this.mask(succeededField(version)))) === 1;
  }

  /** Where the log lives: entries by id in one hash, and lexically sorted indexes of `<at>:<id>` members. */
  private logKeys(env: string) {
    return {
      data: this.key('log', 'data'),
      all: this.key('log', 'idx'),
      env: this.key('log', 'idx', env),
      user: (u: string) => this.key('log', 'idx', env, 'user', u),
      status: (st: string) => this.key('log', 'idx', env, 'status', st),
    };
  }

  /**
   * Appends one entry per id (a second call for the same deploy is ignored) to the environment's timeline and its
   * indexes, and trims what retention drops (bounded per call). The deploy's audit stream expires with the log, and
   * its record goes with its entry — unless it is unfinished or the environment's current or a good version /rollback
   * may put back (its state's history); such a record is remembered and dropped by a later call once it is neither.
   */
  async appendLog(entry: LogEntry): Promise<boolean> {
    const masked = maskDeep(entry, this.mask);
    const k = this.logKeys(masked.env);
    const added = await this.redis.eval(
      APPEND_LOG, 9, k.data, k.all, k.env, k.user(masked.deployedBy), k.status(masked.status), this.key('audit', 'deploy', masked.deployId),
      this.key('env', masked.env), this.key('env', masked.env, 'history'), this.key('log', 'retained', masked.env),
      masked.deployId, JSON.stringify(masked), logMember(masked.at, masked.deployId), String(this.retention.keep),
      logMember(this.now() - this.retention.maxAgeMs, ''), this.key('log', 'idx', masked.env, ''), String(Math.ceil(this.retention.maxAgeMs / 1000)), this.key('audit', 'deploy', ''),
      this.key('deploy', ''),
    );
    return added === 1;
  }

  /** The newest entries, of one environment or all. Two Redis commands whatever the log's size. */
  async recentLog(count = 10, env?: string): Promise<LogEntry[]> {
    const k = this.logKeys(env ?? '');
    const members = await this.redis.zrange(env ? k.env : k.all, '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, count);
    if (members.length === 0) return [];
    const raws = await this.redis.hmget(k.data, ...members.map(logIdOf));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as LogEntry);
  }

  /**
   * One page of an environment's timeline, newest first, filtered by --since, --user and --status: one Redis script
   * walking the narrowest index from the cursor, looking at LOG_PAGE_BUDGET entries at most, never the whole log.
   */
  async logPage(q: LogQuery): Promise<LogPage> {
    const k = this.logKeys(q.env);
    const index = q.user ? k.user(q.user) : q.status ? k.status(q.status) : k.env;
    const size = Math.max(1, Math.min(q.size ?? 10, 1000));
    const reply = (await this.redis.eval(
      LOG_PAGE, 2, index, k.data,
      q.direction === 'newer' ? 'newer' : 'older', q.cursor ?? '', q.since !== undefined ? logMember(q.since, '') : '', String(size),
      q.user && q.status ? q.status : '', String(Math.max(LOG_PAGE_BUDGET, size + 1)),
    )) as [number, number, number, ...string[]];
    const [more, examined, total, ...flat] = reply;
    const members: string[] = [];
    const entries: LogEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      members.push(flat[i] as string);
      entries.push(JSON.parse(flat[i + 1] as string) as LogEntry);
    }
    const older = q.direction !== 'newer';
    return {
      entries, first: members[0], last: members.at(-1), examined, ...(total >= 0 ? { total } : {}),
      hasOlder: older ? more === 1 : q.cursor !== undefined,
      hasNewer: older ? q.cursor !== undefined : more === 1,
    };
  }

  /** Every entry of the environment from `since` on, oldest first (for DORA numbers and exports); read page by page. */
  async logSince(env: string, since: number, filter: Omit<LogQuery, 'env' | 'since' | 'cursor' | 'direction' | 'size'> = {}): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.logPage({ env, since, ...filter, cursor, size: 1000 });
      out.push(...page.entries);
      if (!page.hasOlder || !page.last) break;
      cursor = page.last;
    }
    return out.reverse();
  }

  /** A short-lived lock (SET NX PX) for work that must not run twice at once, e.g. posting a status message. */
  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const key = this.key('lock', name);
    const token = `${process.pid}-${Math.random()}`;
    const deadline = Date.now() + ttlMs;
    while ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) break; // a stuck holder must not block status updates forever
      await new Promise((ok) => setTimeout(ok, 25));
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, 1, key, token);
    }
  }
}

/** Index members sort by time as text: a fixed-width millisecond time, then the entry's id. */
export function logMember(at: number, id: string): string {
  return `${String(Math.max(0, Math.floor(at))).padStart(15, '0')}:${id}`;
}

const logIdOf = (member: string): string => member.slice(16);

/**
 * KEYS: data hash, global index, environment index, user index, status index, the deploy's audit stream, the
 * environment's state hash and its history list (what /rollback may put back), the environment's set of records
 * kept past their entry. ARGV: id, entry JSON, member, keep per environment, cutoff member (older is dropped),
 * environment index prefix (`…:log:idx:<env>:`), audit TTL (s), per-deploy audit key prefix, record key prefix.
 * At most 100 old entries go per call, and 10 kept records are looked at again: bounded work whatever the log's size.
 */
const APPEND_LOG = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local final = { succeeded = true, failed = true, cancelled = true, interrupted = true, rejected = true }
local protected = nil
-- The deploys the environment runs now or may roll back to: their records stay (read once per call, at most 101).
local function isProtected(id)
  if not protected then
    protected = {}
    local cur = redis.call('HGET', KEYS[7], 'current')
    if cur then protected[tostring(cjson.decode(cur)['deployId'])] = true end
    for _, h in ipairs(redis.call('LRANGE', KEYS[8], 0, 99)) do protected[tostring(cjson.decode(h)['deployId'])] = true end
  end
  return protected[id] == true
end
-- Drops a deploy's record past retention; false when it must stay for now (unfinished, current, or a rollback target).
local function dropRecord(id)
  local raw = redis.call('GET', ARGV[9] .. id)
  if not raw then return true end
  if not final[cjson.decode(raw)['status']] or isProtected(id) then return false end
  redis.call('DEL', ARGV[9] .. id)
  return true
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[9], 0, 9)) do
  if dropRecord(id) then redis.call('ZREM', KEYS[9], id) end
end
for i = 2, 5 do redis.call('ZADD', KEYS[i], 0, ARGV[3]) end
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('EXPIRE', KEYS[6], tonumber(ARGV[7])) end
local victims = redis.call('ZRANGE', KEYS[3], '-', '(' .. ARGV[5], 'BYLEX', 'LIMIT', 0, 100)
local over = redis.call('ZCARD', KEYS[3]) - #victims - tonumber(ARGV[4])
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[3], #victims, #victims + math.min(over, 100) - 1)) do table.insert(victims, m) end
end
for _, m in ipairs(victims) do
  local id = string.sub(m, 17)
  local raw = redis.call('HGET', KEYS[1], id)
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', KEYS[3], m)
  if raw then
    local e = cjson.decode(raw)
    redis.call('ZREM', ARGV[6] .. 'user:' .. tostring(e['deployedBy']), m)
    redis.call('ZREM', ARGV[6] .. 'status:' .. tostring(e['status']), m)
    redis.call('HDEL', KEYS[1], id)
    redis.call('DEL', ARGV[8] .. id)
  end
  if not dropRecord(id) then redis.call('ZADD', KEYS[9], tonumber(string.sub(m, 1, 15)), id) end
end
return 1`;

/**
 * One page of a log index. KEYS: index, data hash. ARGV: 'older'|'newer', cursor member ('' = the newest), since
 * member ('' = none), page size, status a second filter must match ('' = none), budget of entries to look at.
 * Returns {more (1|0), examined, total (-1 when a second filter applies), member, json, member, json, …} newest first.
 */
const LOG_PAGE = `
local older = ARGV[1] == 'older'
local size = tonumber(ARGV[4])
local budget = tonumber(ARGV[6])
local lo = ARGV[3] ~= '' and ('[' .. ARGV[3]) or '-'
local hi = '+'
if ARGV[2] ~= '' then
  if older then hi = '(' .. ARGV[2] else lo = '(' .. ARGV[2] end
end
local found = {}
local examined = 0
local more = 0
while examined < budget do
  local chunk = math.min(ARGV[5] == '' and (size + 1) or math.max(size + 1, 100), budget - examined)
  local members
  if older then members = redis.call('ZRANGE', KEYS[1], hi, lo, 'BYLEX', 'REV', 'LIMIT', 0, chunk)
  else members = redis.call('ZRANGE', KEYS[1], lo, hi, 'BYLEX', 'LIMIT', 0, chunk) end
  if #members == 0 then break end
  local ids = {}
  for i, m in ipairs(members) do ids[i] = string.sub(m, 17) end
  local raws = redis.call('HMGET', KEYS[2], unpack(ids))
  for i, m in ipairs(members) do
    examined = examined + 1
    local raw = raws[i]
    if raw and (ARGV[5] == '' or cjson.decode(raw)['status'] == ARGV[5]) then
      if #found == size then more = 1; break end
      table.insert(found, {m, raw})
    end
  end
  if more == 1 then break end
  if older then hi = '(' .. members[#members] else lo = '(' .. members[#members] end
  if #members < chunk then break end
  if examined >= budget then more = 1 end
end
local total = -1
if ARGV[5] == '' then total = redis.call('ZLEXCOUNT', KEYS[1], ARGV[3] ~= '' and ('[' .. ARGV[3]) or '-', '+') end
local out = {more, examined, total}
if older then
  for _, f in ipairs(found) do table.insert(out, f[1]); table.insert(out, f[2]) end
else
  for i = #found, 1, -1 do table.insert(out, found[i][1]); table.insert(out, found[i][2]) end
end
return out`;

/** A version as promotion rules know it: a name, or a record/state carrying a commit SHA. */
export type VersionKey = string | { version: string; sha?: string };

function succeededField(v: VersionKey): string {
  if (typeof v === 'string') return v;
  return v.sha ? `sha:${v.sha}` : v.version;
}

export interface AuditEntry {
  action: string;
  user: string;
  deployId?: string;
  env?: string;
  detail?: string;
}

/**
 * The audit trail: a capped Redis stream of who did what, when (refusals included), plus a per-deploy
 * stream so a deploy's own trail can be read back for its log entry.
 */
function auditFields(entry: AuditEntry, at: number, mask: Masker): string[] {
  return Object.entries({ ...entry, at: String(at) }).flatMap(([k, v]) => (v === undefined ? [] : [k, mask(String(v))]));
}

export async function audit(redis: Redis, prefix: string, entry: AuditEntry, at = Date.now()): Promise<void> {
  const fields = auditFields(entry, at, connectionMaskers.get(redis) ?? noMask);
  const tx = redis.multi().xadd(`${prefix}:audit`, 'MAXLEN', '~', '100000', '*', ...fields);
  if (entry.deployId) tx.xadd(`${prefix}:audit:deploy:${entry.deployId}`, 'MAXLEN', '~', '1000', '*', ...fields);
  await tx.exec();
}

function auditRows(rows: Array<[string, string[]]>): Array<AuditEntry & { at: number }> {
  return rows.map(([, flat]) => {
    const o: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) o[flat[i] as string] = flat[i + 1] as string;
    return { action: o.action ?? '', user: o.user ?? '', deployId: o.deployId, env: o.env, detail: o.detail, at: Number(o.at) };
  });
}

/** One deploy's trail, oldest first. */
export async function readDeployAudit(redis: Redis, prefix: string, deployId: string): Promise<Array<AuditEntry & { at: number }>> {
  return auditRows(await redis.xrange(`${prefix}:audit:deploy:${deployId}`, '-', '+'));
}

export async function readAudit(redis: Redis, prefix: string, count = 100): Promise<Array<AuditEntry & { at: number }>> {
  return auditRows(await redis.xrevrange(`${prefix}:audit`, '+', '-', 'COUNT', count));
}
