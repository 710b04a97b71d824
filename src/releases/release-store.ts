// Release and hotfix records in Redis: one JSON document per release with a state per step, so a restarted worker
// (or a retry after GitHub was down) resumes at the first step not done. Writes are optimistic (WATCH/MULTI): the
// release job and a click (edit notes, ship the fix) never lose each other's changes. One active release and one
// active hotfix at a time (a second /release is told which one runs).
import type { Redis } from 'ioredis';
import type { VersionRequest } from './versioning.js';
import type { ReleaseNotes } from './notes.js';

export type ReleaseType = 'release' | 'hotfix';
export type ReleaseStatus = 'preparing' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'done' | 'skipped' | 'failed' | 'conflict';

export interface ReleaseStep {
  status: StepStatus;
  at?: number;
  /** What happened, in words (shown in the status message). */
  detail?: string;
  /** deploy:<env> steps: the deploy this step requested. */
  deployId?: string;
}

export interface ReleaseRecord {
  id: string;
  type: ReleaseType;
  /** /release's bump or explicit version; hotfixes are always a patch. */
  request?: VersionRequest;
  /** /hotfix's description and the criterion chosen. */
  description?: string;
  criterion?: string;
  /** The release kind whose rules its deploys follow (config releaseKinds), if one governs it. */
  kind?: string;
  status: ReleaseStatus;
  requestedBy: string;
  channel: string;
  createdAt: number;
  finishedAt?: number;
  deadlineAt?: number;
  overdue?: boolean;
  version?: string;
  tag?: string;
  branch?: string;
  /** The commit the branch was cut from, and the commit the release deploys (pinned at the first deploy). */
  baseSha?: string;
  sha?: string;
  previousTag?: string;
  why?: string;
  /** The notes as Markdown (editable until the release is published), who edited them last, and their groups. */
  notes?: string;
  notesEditedBy?: string;
  notesData?: ReleaseNotes;
  /** The environments it goes through, in order, and those it skips (hotfix kinds that allow it). */
  envs: string[];
  skip: string[];
  /** A hotfix waits for its fix on the branch: set when someone says it is pushed. */
  shippedBy?: string;
  steps: Record<string, ReleaseStep>;
  releaseUrl?: string;
  error?: string;
  /** How many times `/release resume` restarted it: a resumed release requests its failed deploy anew. */
  resumes?: number;
  rev: number;
}

/**
 * KEYS: active claim, sequence, last, delivery ('' for none). ARGV: record key prefix, record JSON without its id.
 * Returns {1, id} when created, {0, id} for the active release (or the one this delivery made).
 */
const CREATE = `
if KEYS[4] ~= '' then
  local seen = redis.call('GET', KEYS[4])
  if seen and redis.call('EXISTS', ARGV[1] .. seen) == 1 then return {0, seen} end
end
local active = redis.call('GET', KEYS[1])
if active then
  local cur = redis.call('GET', ARGV[1] .. active)
  if cur then
    local st = cjson.decode(cur)['status']
    if st ~= 'succeeded' and st ~= 'failed' and st ~= 'cancelled' then return {0, active} end
  end
end
local id = tostring(redis.call('INCR', KEYS[2]))
redis.call('SET', ARGV[1] .. id, '{"id":"' .. id .. '",' .. string.sub(ARGV[2], 2))
redis.call('SET', KEYS[1], id)
redis.call('SET', KEYS[3], id)
if KEYS[4] ~= '' then redis.call('SET', KEYS[4], id, 'EX', 3600) end
return {1, id}`;

const CAS = `
local cur = redis.call('GET', KEYS[1])
if not cur or tostring(cjson.decode(cur)['rev']) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
return 1`;

export function isDone(r: Pick<ReleaseRecord, 'status'>): boolean {
  return r.status === 'succeeded' || r.status === 'failed' || r.status === 'cancelled';
}

export class ReleaseStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(id: string): string {
    return `${this.prefix}:release:${id}`;
  }

  private activeKey(type: ReleaseType): string {
    return `${this.prefix}:release:active:${type}`;
  }

  async get(id: string): Promise<ReleaseRecord | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as ReleaseRecord) : undefined;
  }

  async active(type: ReleaseType): Promise<ReleaseRecord | undefined> {
    const id = await this.redis.get(this.activeKey(type));
    return id ? this.get(id) : undefined;
  }

  async latest(): Promise<ReleaseRecord | undefined> {
    const id = await this.redis.get(`${this.prefix}:release:last`);
    return id ? this.get(id) : undefined;
  }

  /**
   * Creates the release unless one of its type is active (returns that one instead), in one atomic step so two
   * requests at the same moment make one release. The same Slack delivery (trigger id) twice creates one release.
   */
  async create(draft: Omit<ReleaseRecord, 'id' | 'rev'>, delivery?: string): Promise<{ created: ReleaseRecord } | { existing: ReleaseRecord }> {
    const { id: _id, rev: _rev, ...rest } = draft as ReleaseRecord;
    const body = JSON.stringify({ ...rest, rev: 1 });
    const [made, id] = (await this.redis.eval(CREATE, 4, this.activeKey(draft.type), `${this.prefix}:release:seq`, `${this.prefix}:release:last`, delivery ? `${this.prefix}:release:delivery:${delivery}` : '', `${this.prefix}:release:`, body)) as [number, string];
    const record = await this.get(id);
    if (!record) throw new Error(`release ${id} has no record`);
    return made === 1 ? { created: record } : { existing: record };
  }

  /** Applies `change` to the stored record (retried on a concurrent write); `false` from it writes nothing. Ending a release frees its slot. */
  async update(id: string, change: (r: ReleaseRecord) => void | false): Promise<{ record: ReleaseRecord; applied: boolean }> {
    const key = this.key(id);
    for (let attempt = 0; attempt < 50; attempt++) {
      const raw = await this.redis.get(key);
      if (!raw) throw new Error(`release ${id} has no record`);
      const before = JSON.parse(raw) as ReleaseRecord;
      const record = JSON.parse(raw) as ReleaseRecord;
      if (change(record) === false) return { record: before, applied: false };
      record.rev = before.rev + 1;
      const free = !isDone(before) && isDone(record) ? '1' : '';
      // Compare-and-set on the revision in one script (a shared connection cannot use WATCH safely).
      const ok = await this.redis.eval(CAS, 2, key, this.activeKey(record.type), String(before.rev), JSON.stringify(record), free, id);
      if (ok === 1) return { record, applied: true };
    }
    throw new Error(`release ${id}: too many concurrent writes`);
  }
}
