// Approvals for a change that is not a deploy (today: a feature-flag change in production). The rules are the
// deploy gates' own (gate-rules.ts: how many approvals, which roles, distinct roles, required roles, no
// self-approval unless allowed, expiry), read from the environment's `approvals`; only the storage differs: a
// deploy keeps its GateState in its record, a gated change keeps it here, one JSON document per change.
// Every change to it is a compare-and-set with its audit entries in the same script, so two approvers clicking
// at once are both counted and exactly one of them sees the change become `met` (and applies it).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { roleLabel, type Config, type EnvironmentConfig } from '../core/config.js';
import { ConflictError, NotAuthorizedError } from '../core/errors.js';
import type { Masker } from '../core/mask.js';
import { approvalProblem, dropExpired, initialGates, summarize, type GateState } from './gate-rules.js';
import type { RoleDirectory } from './roles.js';

export interface GatedChange<P = unknown> {
  id: string;
  /** What kind of change (audit actions are `<kind>.approval.given` …), e.g. 'flag'. */
  kind: string;
  env: string;
  requestedBy: string;
  /** The change in words, for audit details and refusals: "`new_checkout` on in production". */
  subject: string;
  payload: P;
  status: 'pending' | 'met' | 'rejected';
  gates: GateState;
  createdAt: number;
  expiresAt: number;
  rev: number;
  /** What came of it once met (applied, or why not), for the sign-off message. */
  outcome?: string;
}

/** KEYS: change, audit stream. ARGV: expected rev, new JSON, TTL ms, audit field lists JSON. 1 stored, 0 conflict, -1 gone. */
const CAS = `
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if tostring(cjson.decode(cur)['rev']) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for _, fields in ipairs(cjson.decode(ARGV[4])) do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', unpack(fields))
end
return 1`;

type Entry = { action: string; user: string; detail?: string };

export interface SubjectGatesDeps {
  redis: Redis;
  prefix: string;
  config: Config;
  roles: RoleDirectory;
  now: () => number;
  mask?: Masker;
}

export class SubjectGates {
  constructor(private readonly d: SubjectGatesDeps) {}

  roleName = (role: string): string => roleLabel(this.d.config, role);

  private key(id: string): string {
    return `${this.d.prefix}:gated:${id}`;
  }

  private env(name: string): EnvironmentConfig {
    const env = this.d.config.environments.find((e) => e.name === name);
    if (!env) throw new ConflictError(`Environment ${name} is no longer configured.`);
    return env;
  }

  /** Whether a change in `env` needs approvals at all (the environment has approval rules). */
  gated(env: EnvironmentConfig): boolean {
    return env.approvals !== undefined;
  }

  /** Opens a change waiting for the environment's approvals; it is forgotten after `ttlMs` if nobody signs. */
  async open<P>(input: { kind: string; env: EnvironmentConfig; requestedBy: string; subject: string; payload: P; ttlMs: number }): Promise<GatedChange<P>> {
    const at = this.d.now();
    const change: GatedChange<P> = {
      id: randomUUID(), kind: input.kind, env: input.env.name, requestedBy: input.requestedBy, subject: input.subject, payload: input.payload,
      status: 'pending', gates: initialGates({ ...input.env, checklist: [] }), createdAt: at, expiresAt: at + input.ttlMs, rev: 1,
    };
    const fields = this.fields(change, { action: 'signoff.requested', user: input.requestedBy }, at);
    await this.d.redis.multi().set(this.key(change.id), JSON.stringify(change), 'PX', input.ttlMs).xadd(`${this.d.prefix}:audit`, 'MAXLEN', '~', '100000', '*', ...fields).exec();
    return change;
  }

  async get<P>(id: string): Promise<GatedChange<P> | undefined> {
    const raw = await this.d.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as GatedChange<P>) : undefined;
  }

  private async require<P>(id: string): Promise<GatedChange<P>> {
    const change = await this.get<P>(id);
    if (!change) throw new ConflictError('This change is no longer waiting for sign-off: it expired, or the request is unknown. Nothing was changed.');
    return change;
  }

  private fields(change: GatedChange, e: Entry, at: number): string[] {
    const mask = this.d.mask ?? ((t: string) => t);
    const detail = `${change.subject}${e.detail ? `: ${e.detail}` : ''}`;
    return Object.entries({ action: `${change.kind}.${e.action}`, user: e.user, env: change.env, detail, gated: change.id, at: String(at) }).flatMap(([k, v]) => [k, mask(v)]);
  }

  /**
   * Compare-and-set with a retry on a concurrent write: `mutate` decides afresh on each try and returns the
   * audit entries of what it did, or false to write nothing. Returns the stored change and whether this call wrote it.
   */
  private async update<P>(id: string, mutate: (c: GatedChange<P>, at: number) => Entry[] | false): Promise<{ change: GatedChange<P>; applied: boolean }> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.require<P>(id);
      const next = structuredClone(current);
      const at = this.d.now();
      const entries = mutate(next, at);
      if (entries === false) return { change: current, applied: false };
      next.rev = current.rev + 1;
      const ttl = Math.max(1_000, next.expiresAt - at);
      const ok = (await this.d.redis.eval(CAS, 2, this.key(id), `${this.d.prefix}:audit`, String(current.rev), JSON.stringify(next), String(ttl), JSON.stringify(entries.map((e) => this.fields(next, e, at))))) as number;
      if (ok === 1) return { change: next, applied: true };
      if (ok === -1) await this.require(id);
    }
    throw new ConflictError('Too many people are signing this change at once; try again.');
  }

  private async refuse(change: GatedChange, e: Entry): Promise<void> {
    await this.d.redis.xadd(`${this.d.prefix}:audit`, 'MAXLEN', '~', '100000', '*', ...this.fields(change, e, this.d.now()));
  }

  /**
   * An approval as `role`, checked by the deploy rules. `met` is true for exactly one call: the one whose write
   * completed the approvals (the caller then applies the change). Expired approvals are dropped first.
   */
  async approve<P>(id: string, user: string, role: string, noun: string): Promise<{ change: GatedChange<P>; met: boolean }> {
    const first = await this.require<P>(id);
    const env = this.env(first.env);
    const held = await this.d.roles.rolesOf(user);
    let problem: string | undefined;
    let met = false;
    const { change, applied } = await this.update<P>(id, (c, at) => {
      problem = undefined;
      met = false;
      if (c.status !== 'pending') return false;
      const expired = dropExpired(env, c.gates, at);
      problem = approvalProblem(env, c.gates, c.requestedBy, user, role, held, this.roleName, noun);
      const entries: Entry[] = expired.map((a) => ({ action: 'approval.expired', user: a.user, detail: a.role }));
      if (problem) return entries.length ? entries : false;
      c.gates.approvals.push({ user, role, at });
      entries.push({ action: 'approval.given', user, detail: role });
      if (summarize(env, c.gates).met) {
        c.status = 'met';
        c.gates.metAt = at;
        met = true;
        entries.push({ action: 'gates.met', user: 'shipmate' });
      }
      return entries;
    });
    if (change.status !== 'pending' && !(applied && met)) throw new ConflictError(notPending(change, noun));
    if (problem) {
      await this.refuse(change, { action: 'approval.refused', user, detail: `${role}: ${problem}` });
      const unauthorized = !held.has(role) || (user === change.requestedBy && !env.approvals?.allowRequester);
      throw unauthorized ? new NotAuthorizedError(problem) : new ConflictError(problem);
    }
    return { change, met: applied && met };
  }

  /** Who may reject: anyone holding one of the environment's sign-off roles (as for deploys). */
  async checkMayReject<P>(id: string, user: string, noun: string): Promise<GatedChange<P>> {
    const change = await this.require<P>(id);
    if (change.status !== 'pending') throw new ConflictError(notPending(change, noun));
    const roles = this.env(change.env).approvals?.roles ?? [];
    if (!(await this.d.roles.hasAnyRole(user, roles))) {
      await this.refuse(change, { action: 'rejection.refused', user });
      throw new NotAuthorizedError(`Only someone holding a sign-off role for ${change.env} (${roles.map(this.roleName).join(', ')}) can reject this ${noun}.`);
    }
    return change;
  }

  async reject<P>(id: string, user: string, reason: string, noun: string): Promise<GatedChange<P>> {
    await this.checkMayReject(id, user, noun);
    const { change, applied } = await this.update<P>(id, (c, at) => {
      if (c.status !== 'pending') return false;
      c.status = 'rejected';
      c.gates.rejected = { user, reason, at };
      return [{ action: 'rejected', user, detail: reason }];
    });
    if (!applied) throw new ConflictError(notPending(change, noun));
    return change;
  }

  /** Records what came of a met change (applied, or why not), once. */
  async settle<P>(id: string, outcome: string): Promise<GatedChange<P>> {
    return (await this.update<P>(id, (c) => (c.outcome !== undefined ? false : ((c.outcome = outcome), [])))).change;
  }
}

/** Why an action on a change that no longer waits does nothing. */
export function notPending(c: GatedChange, noun: string): string {
  if (c.gates.rejected) return `This ${noun} was rejected by <@${c.gates.rejected.user}>; nothing more to sign.`;
  const by = [...new Set(c.gates.approvals.map((a) => `<@${a.user}>`))].join(' and ');
  return `This ${noun} needs no more sign-offs${by ? ` (approved by ${by})` : ''}.`;
}
