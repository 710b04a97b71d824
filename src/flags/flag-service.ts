// Feature flags as changes like any other: who may change what where (config `flags.changers`, the flag's
// owner always), a sign-off where the flag type asks for one — through the deploy gates' approval rules of the
// environment (src/gates/subject-gates.ts: count, roles, separation of duties, expiry) — every change and
// refusal audited, announced through the delivery path, and written to the same deployment log as deploys
// (kind 'flag'). Changes from /flag are committed within the command's deadline or not at all. Evaluation
// itself is pure (evaluation.ts); the OFREP routes read flags through snapshot(), which reloads only when a
// write moved the version counter.
import { distance } from 'fastest-levenshtein';
import type { Redis } from 'ioredis';
import type { Config, EnvironmentConfig } from '../core/config.js';
import { roleLabel } from '../core/config.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../core/errors.js';
import { REQUEST_COMMAND_TIMEOUT_MS, isRedisUnavailable } from '../core/redis.js';
import type { Logger } from '../core/logger.js';
import type { DeployStore } from '../deploys/deploy-store.js';
import { requireEnvironment } from '../deploys/environments.js';
import type { RoleDirectory } from '../gates/roles.js';
import { SubjectGates, type GatedChange } from '../gates/subject-gates.js';
import { summarize } from '../gates/gate-rules.js';
import type { Delivery } from '../notify/delivery.js';
import { flagChangeMessage, flagKillNotice, flagSignoffMessage } from '../../blocks/flags.js';
import { FLAG_KEY, defaultFor, describeState, fullyOn, parseValue, type EnvFlagState, type Flag, type ValueType } from './evaluation.js';
import { FlagStore, type FlagHistoryEntry } from './flag-store.js';

export type FlagChange = { kind: 'on' } | { kind: 'off' } | { kind: 'percent'; percentage: number } | { kind: 'set'; text: string };

export interface FlagServiceDeps {
  config: Config;
  redis: Redis;
  prefix: string;
  store: DeployStore;
  delivery: Delivery;
  roles: RoleDirectory;
  log: Logger;
  now: () => number;
  mask?: (t: string) => string;
}

/** What a flag change waiting for its sign-off holds (the gate itself is a GatedChange, src/gates/subject-gates.ts). */
export interface FlagSignoffPayload {
  key: string;
  change: FlagChange;
  reason?: string;
  channel: string;
  /** The flag's type, for the sign-off message. */
  type: string;
}
export type PendingFlagChange = GatedChange<FlagSignoffPayload>;

/** How long a flag change waits for its sign-offs before it is forgotten. */
const SIGNOFF_TTL_MS = 24 * 60 * 60_000;
/** The noun approvals' answers use ("You requested this flag change, …"). */
const NOUN = 'flag change';

/** `announced: false`: applied, but its announcement could not be queued (Redis stopped answering); see confirm(). */
export type ChangeOutcome = { applied: Flag; before: string; after: string; announced?: false } | { pending: PendingFlagChange };

/** How long a write sent from a Slack request stays valid on Redis' side: less than the request connection waits for it. */
const WRITE_WITHIN_MS = REQUEST_COMMAND_TIMEOUT_MS - 200;

/** The change was not made: the commit deadline passed, or Redis ran the write too late (it then writes nothing). */
export class FlagNotChangedError extends ConflictError {
  constructor(key: string, env: string) {
    super(`Shipmate's database did not answer in time, so \`${key}\` was *not* changed in ${env}. Nothing was changed — try again in a minute.`);
    this.name = 'FlagNotChangedError';
  }
}

/** Redis did not answer the write in time: whether it was made is learnt later (confirm()), never guessed. */
export class FlagChangeUnconfirmedError extends ConflictError {
  constructor(readonly key: string, readonly env: string, readonly changeId: string, readonly validUntil: number) {
    super(`:hourglass_flowing_sand: Shipmate's database did not confirm the change of \`${key}\` in ${env} in time. I'll tell you here whether it took effect as soon as the database answers; don't repeat it before then.`);
    this.name = 'FlagChangeUnconfirmedError';
  }
}

const USAGE = 'Usage: `/flag <key> on|off|25%|set <value> <env>` — `/flag help` for more.';

/** How long the approval that met a sign-off has to apply it before a later click takes the application over. */
const APPLY_GRACE_MS = 30_000;

export class FlagService {
  readonly flags: FlagStore;
  /** Sign-offs through the deploy gates' approval rules. */
  readonly signoffs: SubjectGates;
  private cache?: { version: string; byKey: Map<string, Flag>; at: number };

  constructor(private readonly d: FlagServiceDeps) {
    this.flags = new FlagStore(d.redis, d.prefix, d.mask);
    this.signoffs = new SubjectGates({ redis: d.redis, prefix: d.prefix, config: d.config, roles: d.roles, now: d.now, mask: d.mask });
  }

  private get cfg() {
    return this.d.config.flags;
  }

  /** Every flag by key, current as of this call: one GET when nothing changed, a reload when something did. */
  async snapshot(): Promise<{ version: string; byKey: Map<string, Flag> }> {
    const version = await this.flags.version();
    if (this.cache?.version === version) return this.cache;
    const snap = await this.flags.snapshot();
    this.cache = { version: snap.version, byKey: new Map(snap.flags.map((f) => [f.key, f])), at: this.d.now() };
    return this.cache;
  }

  async list(): Promise<Flag[]> {
    return (await this.flags.all()).filter((f) => !f.archived);
  }

  /** The flag a command names, or a clear refusal that names the nearest existing one. */
  async require(key: string): Promise<Flag> {
    const flag = await this.flags.get(key);
    if (flag && !flag.archived) return flag;
    const near = (await this.list()).map((f) => ({ key: f.key, d: distance(f.key, key) })).filter((c) => c.d <= Math.max(2, Math.floor(key.length / 3))).sort((a, b) => a.d - b.d)[0]?.key;
    throw new UserInputError(`There is no flag \`${key.slice(0, 64)}\`${flag?.archived ? ' (it was archived)' : ''}.${near ? ` Did you mean \`${near}\`?` : ''} \`/flag list\` shows them all.`);
  }

  async create(input: { key: string; type: string; description: string; user: string; valueType?: ValueType; signal?: AbortSignal }): Promise<Flag> {
    if (!FLAG_KEY.test(input.key)) throw new UserInputError(`\`${input.key.slice(0, 64)}\` is not a flag key: start with a letter; letters, digits, _ . - (at most 64).`, 'Usage: `/flag create <key> <type> "<description>"`');
    const type = Object.hasOwn(this.cfg.types, input.type) ? this.cfg.types[input.type] : undefined;
    if (!type) throw new UserInputError(`There is no flag type \`${input.type.slice(0, 40)}\`. Types: ${Object.keys(this.cfg.types).join(', ')}.`, 'Usage: `/flag create <key> <type> "<description>"`');
    if (!input.description.trim()) throw new UserInputError('Say what the flag is for: `/flag create <key> <type> "<description>"`.');
    const valueType = input.valueType ?? type.value;
    const flag: Flag = { key: input.key, type: input.type, valueType, description: input.description.trim().slice(0, 300), owner: input.user, createdAt: this.d.now(), defaultValue: defaultFor(valueType), envs: {}, rev: 1 };
    // Within the command's commit deadline, or not at all (see change()).
    if (input.signal?.aborted) throw new ConflictError(`Shipmate's database did not answer in time, so \`${flag.key}\` was *not* created — try again in a minute.`);
    const result = await this.flags.write(flag.key, 0, flag, { at: this.d.now(), user: input.user, action: 'create', after: `${input.type} (${valueType})`, reason: flag.description }, input.signal ? { validForMs: WRITE_WITHIN_MS } : {});
    if (result === 'expired') throw new ConflictError(`Shipmate's database answered too late, so \`${flag.key}\` was *not* created — try again in a minute.`);
    if (result === 'exists') {
      const existing = await this.flags.get(flag.key);
      throw new ConflictError(`A flag \`${flag.key}\` exists already${existing?.archived ? ' (archived)' : ''}; \`/flag ${flag.key}\` shows it.`);
    }
    this.d.log.info({ flag: flag.key, type: flag.type, user: input.user }, 'flag created');
    return flag;
  }

  /** Who may change a flag in an environment: its owner, or a holder of the environment's changer roles (anyone where none are set). */
  async mayChange(flag: Flag, env: string, user: string): Promise<{ ok: true } | { ok: false; why: string }> {
    if (flag.owner === user) return { ok: true };
    const roles = Object.hasOwn(this.cfg.changers, env) ? (this.cfg.changers[env] ?? []) : [];
    if (roles.length === 0 || (await this.d.roles.hasAnyRole(user, roles))) return { ok: true };
    return { ok: false, why: `In ${env}, flags are changed by their owner (<@${flag.owner}>) or the ${roles.map((r) => roleLabel(this.d.config, r)).join(' or ')} role.` };
  }

  private env(name: string): EnvironmentConfig {
    return requireEnvironment(this.d.config, name, USAGE);
  }

  /** Checks a change against the flag's value type; returns the new environment state. */
  private nextState(flag: Flag, change: FlagChange, user: string, current: EnvFlagState | undefined): EnvFlagState {
    const base = { changedAt: this.d.now(), changedBy: user };
    switch (change.kind) {
      case 'on':
        return { ...base, enabled: true, ...(flag.valueType === 'boolean' ? { percentage: 100 } : { value: current?.value ?? flag.defaultValue }) };
      case 'off':
        return { ...base, enabled: false, ...(current?.value !== undefined ? { value: current.value } : {}) };
      case 'percent':
        if (flag.valueType !== 'boolean') throw new UserInputError(`\`${flag.key}\` serves a ${flag.valueType}, so it has no percentage rollout; use \`/flag ${flag.key} set <value> <env>\`.`);
        if (!Number.isFinite(change.percentage) || change.percentage < 0 || change.percentage > 100) throw new UserInputError(`${change.percentage}% is not a percentage: use 0–100, e.g. 25%.`, USAGE);
        return { ...base, enabled: change.percentage > 0, percentage: change.percentage };
      case 'set': {
        const parsed = parseValue(flag.valueType, change.text);
        if ('problem' in parsed) throw new UserInputError(`\`${flag.key}\` is a ${flag.valueType} flag: ${parsed.problem}.`, USAGE);
        if (flag.valueType === 'boolean') return { ...base, enabled: parsed.value === true, percentage: 100 };
        return { ...base, enabled: true, value: parsed.value };
      }
    }
  }

  /**
   * Changes one environment's state of a flag. `expectRev` (buttons) refuses the change when the flag changed
   * since the card was drawn, so a double click applies once. Where the flag type needs a sign-off, the change
   * waits for one (returns `pending`).
   *
   * From a slash command, `signal` is the commit deadline: past it nothing is written, and the write itself is
   * only valid on Redis' side for WRITE_WITHIN_MS, so a write Redis runs late (stalled, paused) is not made. A
   * write Redis did not answer is reported as unconfirmed, with `changeId` to look its outcome up (confirm()).
   */
  async change(input: { key: string; env: string; user: string; change: FlagChange; reason?: string; channel: string; expectRev?: number; kill?: boolean; signedOffBy?: string | string[]; attempt?: number; signal?: AbortSignal; changeId?: string }): Promise<ChangeOutcome> {
    const flag = await this.require(input.key);
    const env = this.env(input.env);
    const allowed = await this.mayChange(flag, env.name, input.user);
    if (!allowed.ok) {
      await this.flags.write(flag.key, flag.rev, undefined, { at: this.d.now(), user: input.user, action: 'refused', env: env.name, after: changeWords(input.change), reason: allowed.why });
      throw new NotAuthorizedError(`You may not change \`${flag.key}\` in ${env.name}. ${allowed.why}`);
    }
    if (input.expectRev !== undefined && input.expectRev !== flag.rev) {
      throw new ConflictError(`\`${flag.key}\` changed since this card was shown (it is ${describeState(flag, env.name)} in ${env.name} now); nothing was changed.`);
    }
    const next = this.nextState(flag, input.change, input.user, flag.envs[env.name]);
    if (input.kill) next.killed = { by: input.user, at: this.d.now(), reason: input.reason ?? '' };
    const needsSignoff = !input.kill && !input.signedOffBy && (this.cfg.types[flag.type]?.signoff ?? []).includes(env.name) && this.signoffs.gated(env);
    if (needsSignoff) {
      // Checked now, so a change that could never apply is refused before anyone is asked to sign it.
      if (describeState({ ...flag, envs: { ...flag.envs, [env.name]: next } }, env.name) === describeState(flag, env.name)) throw new ConflictError(`\`${flag.key}\` is already ${describeState(flag, env.name)} in ${env.name}; nothing changed.`);
      if (input.signal?.aborted) throw new FlagNotChangedError(flag.key, env.name);
      const pending = await this.signoffs.open<FlagSignoffPayload>({
        kind: 'flag', env, requestedBy: input.user, subject: `\`${flag.key}\` ${changeWords(input.change)} in ${env.name}`, ttlMs: SIGNOFF_TTL_MS,
        payload: { key: flag.key, change: input.change, channel: input.channel, type: flag.type, ...(input.reason ? { reason: input.reason } : {}) },
      });
      await this.flags.note(flag.key, { at: this.d.now(), user: input.user, action: 'signoff-requested', env: env.name, before: describeState(flag, env.name), after: changeWords(input.change) });
      await this.showSignoff(pending);
      return { pending };
    }
    const before = describeState(flag, env.name);
    const updated: Flag = { ...flag, envs: { ...flag.envs, [env.name]: next }, rev: flag.rev + 1 };
    const after = describeState(updated, env.name);
    // Asking for the state it is in (or Slack delivering the command again) changes, logs and announces nothing.
    if (before === after && !input.kill) throw new ConflictError(`\`${flag.key}\` is already ${after} in ${env.name}; nothing changed.`);
    const entry: FlagHistoryEntry = { at: this.d.now(), user: input.user, action: input.kill ? 'kill' : input.signedOffBy ? 'signed-off' : 'change', env: env.name, before, after, ...(input.reason ? { reason: input.reason } : {}) };
    if (input.signedOffBy) entry.reason = `${input.reason ? `${input.reason}; ` : ''}signed off by ${[input.signedOffBy].flat().map((u) => `<@${u}>`).join(', ')}`;
    entry.rev = updated.rev;
    if (input.changeId) entry.id = input.changeId;
    // Past the commit deadline the person may already have been told "not changed": write nothing.
    if (input.signal?.aborted) throw new FlagNotChangedError(flag.key, env.name);
    const validUntil = Date.now() + WRITE_WITHIN_MS;
    let result: Awaited<ReturnType<FlagStore['write']>>;
    try {
      result = await this.flags.write(flag.key, flag.rev, updated, entry, input.signal ? { validForMs: WRITE_WITHIN_MS } : {});
    } catch (err) {
      if (input.signal && input.changeId && isRedisUnavailable(err)) throw new FlagChangeUnconfirmedError(flag.key, env.name, input.changeId, validUntil);
      throw err;
    }
    if (result === 'expired') throw new FlagNotChangedError(flag.key, env.name);
    if (result === 'conflict') {
      if (input.expectRev !== undefined) throw new ConflictError(`\`${flag.key}\` changed at the same moment; nothing was changed by this click.`);
      // Someone else wrote in between: apply to the newer flag (a few times; then say so).
      if ((input.attempt ?? 0) >= 5) throw new ConflictError(`\`${flag.key}\` is being changed by others right now; nothing was changed — try again.`);
      return this.change({ ...input, attempt: (input.attempt ?? 0) + 1 });
    }
    if (result !== 'ok') throw new ConflictError(`\`${flag.key}\` was archived at the same moment; nothing was changed.`);
    this.d.log.info({ flag: flag.key, env: env.name, before, after, user: input.user, kill: input.kill ?? false }, 'flag changed');
    try {
      await this.announce(updated, env, entry, input.channel);
    } catch (err) {
      // The change is made: a failing announcement must not turn the answer into "nothing changed".
      if (!isRedisUnavailable(err)) throw err;
      this.d.log.warn({ flag: flag.key, env: env.name, err: (err as Error).message }, 'flag changed; announcement not queued yet');
      return { applied: updated, before, after, announced: false };
    }
    return { applied: updated, before, after };
  }

  /**
   * The outcome of a change whose write Redis did not confirm: waits (up to `waitMs`) until Redis answers after
   * the write's validity has passed — from then on a write still queued in Redis can no longer happen — and
   * looks the change up in the flag's history. A made change is announced (announcements are idempotent, so
   * one already queued is not doubled). `undefined`: Redis did not answer in time either.
   */
  async confirm(key: string, env: string, changeId: string, validUntil: number, typedIn: string, waitMs = 30_000): Promise<{ applied?: FlagHistoryEntry } | undefined> {
    const giveUp = Date.now() + waitMs;
    for (;;) {
      const settled = Date.now() > validUntil + 50;
      try {
        const entry = (await this.flags.history(key, 100)).find((e) => e.id === changeId);
        if (entry) {
          const flag = await this.flags.get(key);
          if (flag && entry.rev !== undefined) await this.announce({ ...flag, rev: entry.rev }, this.env(env), entry, typedIn);
          return { applied: entry };
        }
        if (settled) return {};
      } catch (err) {
        if (!isRedisUnavailable(err)) throw err;
      }
      if (Date.now() > giveUp) return undefined;
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }

  /** Approves a waiting change as `role` (the deploy rules decide); the approval that completes them applies it, once. */
  async approve(id: string, user: string, role: string): Promise<{ pending: PendingFlagChange; applied?: Extract<ChangeOutcome, { applied: Flag }>; problem?: string }> {
    let approved: { change: PendingFlagChange; met: boolean };
    try {
      approved = await this.signoffs.approve<FlagSignoffPayload>(id, user, role, NOUN);
    } catch (err) {
      // Met, but what came of it was never recorded: the process that met it stopped before applying it. A later
      // click (after the grace an applying process gets) applies it now, once: the history entry carries the id.
      const stuck = err instanceof ConflictError ? await this.signoffs.get<FlagSignoffPayload>(id) : undefined;
      if (stuck?.status === 'met' && stuck.outcome === undefined && this.d.now() - (stuck.gates.metAt ?? 0) > APPLY_GRACE_MS) {
        this.d.log.warn({ gated: id, flag: stuck.payload.key }, 'signed-off flag change found unapplied: applying it now');
        return this.applyMet(id, stuck);
      }
      throw err;
    }
    const { change: pending, met } = approved;
    const p = pending.payload;
    await this.flags.note(p.key, { at: this.d.now(), user, action: 'approved', env: pending.env, after: changeWords(p.change), reason: `as ${roleLabel(this.d.config, role)}` });
    if (!met) {
      await this.showSignoff(pending);
      return { pending };
    }
    // Only the one approval whose write met the rules gets here: the change is applied exactly once.
    return this.applyMet(id, pending);
  }

  /** Applies a met change (idempotent by its history entry's id) and records what came of it, once. */
  private async applyMet(id: string, pending: PendingFlagChange): Promise<{ pending: PendingFlagChange; applied?: Extract<ChangeOutcome, { applied: Flag }>; problem?: string }> {
    const p = pending.payload;
    const changeId = `signoff-${id}`;
    let outcome: string;
    let applied: Extract<ChangeOutcome, { applied: Flag }> | undefined;
    let problem: string | undefined;
    const done = (await this.flags.history(p.key, 100)).find((e) => e.id === changeId);
    if (done) {
      const settled = await this.signoffs.settle<FlagSignoffPayload>(id, `applied: ${done.before ?? '?'} → ${done.after ?? '?'}`);
      await this.showSignoff(settled);
      return { pending: settled };
    }
    try {
      const out = await this.change({ key: p.key, env: pending.env, user: pending.requestedBy, change: p.change, reason: p.reason, channel: p.channel, signedOffBy: pending.gates.approvals.map((a) => a.user), changeId });
      if (!('applied' in out)) throw new ConflictError('the change asked for another sign-off');
      applied = out;
      outcome = `applied: ${out.before} → ${out.after}`;
    } catch (err) {
      if (!(err instanceof ConflictError || err instanceof UserInputError || err instanceof NotAuthorizedError)) throw err;
      problem = err.message;
      outcome = `not applied: ${err.message}`;
      this.d.log.warn({ flag: p.key, env: pending.env, err: err.message }, 'signed-off flag change could not be applied');
    }
    const settled = await this.signoffs.settle<FlagSignoffPayload>(id, outcome);
    await this.showSignoff(settled);
    return { pending: settled, applied, problem };
  }

  /** Refuses (and audits) a rejection by someone without a sign-off role; the modal asks why only the others. */
  async checkMayReject(id: string, user: string): Promise<PendingFlagChange> {
    return this.signoffs.checkMayReject<FlagSignoffPayload>(id, user, NOUN);
  }

  /** Rejects a waiting change: nothing is applied; the requester is told why. */
  async reject(id: string, user: string, reason: string): Promise<PendingFlagChange> {
    const pending = await this.signoffs.reject<FlagSignoffPayload>(id, user, reason, NOUN);
    await this.flags.note(pending.payload.key, { at: this.d.now(), user, action: 'rejected', env: pending.env, after: changeWords(pending.payload.change), reason });
    await this.showSignoff(pending);
    await this.d.delivery.send({ key: `flag:signoff:${id}:rejected`, channel: pending.requestedBy, text: `:no_entry: <@${user}> rejected your change of \`${pending.payload.key}\` (${changeWords(pending.payload.change)} in ${pending.env}): ${reason}` });
    return pending;
  }

  /** The sign-off message in the environment's channels, edited as approvals come in (latest state wins). */
  private async showSignoff(pending: PendingFlagChange): Promise<void> {
    const env = this.env(pending.env);
    const message = flagSignoffMessage(pending, env, (r) => roleLabel(this.d.config, r));
    await Promise.all(this.channelsFor(env, pending.payload.channel).map((channel) => this.d.delivery.send({ key: `flag:signoff:${pending.id}:${channel}`, channel, mode: 'upsert', version: pending.rev, ...message })));
  }

  /** How many approvals a waiting change still needs. */
  approvalsNeeded(pending: PendingFlagChange): number {
    return summarize(this.env(pending.env), pending.gates).approvalsNeeded;
  }

  async archive(key: string, user: string, signal?: AbortSignal): Promise<Flag> {
    const flag = await this.require(key);
    for (const env of this.d.config.environments) {
      const allowed = await this.mayChange(flag, env.name, user);
      if (!allowed.ok) {
        await this.flags.write(flag.key, flag.rev, undefined, { at: this.d.now(), user, action: 'refused', env: env.name, after: 'archived', reason: allowed.why });
        throw new NotAuthorizedError(`You may not archive \`${flag.key}\`: it is served in ${env.name}. ${allowed.why}`);
      }
    }
    const updated: Flag = { ...flag, archived: true, rev: flag.rev + 1 };
    if (signal?.aborted) throw new FlagNotChangedError(flag.key, 'any environment');
    const result = await this.flags.write(flag.key, flag.rev, updated, { at: this.d.now(), user, action: 'archive', before: 'active', after: 'archived' }, signal ? { validForMs: WRITE_WITHIN_MS } : {});
    if (result === 'expired') throw new FlagNotChangedError(flag.key, 'any environment');
    if (result !== 'ok') throw new ConflictError(`\`${flag.key}\` changed at the same moment; try again.`);
    return updated;
  }

  /** Flags fully on in every environment since longer than `flags.staleAfter`: candidates for removal from the code. */
  async staleFlags(): Promise<Array<{ flag: Flag; since: number }>> {
    const now = this.d.now();
    const out: Array<{ flag: Flag; since: number }> = [];
    for (const flag of await this.list()) {
      const envs = this.d.config.environments.map((e) => e.name);
      if (!envs.every((e) => fullyOn(flag, e))) continue;
      const since = Math.max(...envs.map((e) => flag.envs[e]?.changedAt ?? now));
      if (now - since >= this.cfg.staleAfter) out.push({ flag, since });
    }
    return out;
  }

  /** Where a change in an environment is told: its stakeholder channels and the deploy log; else where it was typed. */
  private channelsFor(env: EnvironmentConfig, typedIn: string): string[] {
    const channels = [...env.channels.stakeholders, ...(this.d.config.channels.deployLog ? [this.d.config.channels.deployLog] : [])];
    return channels.length ? [...new Set(channels)] : [typedIn];
  }

  /** The change in the environment's channels, the kill notice to its stakeholders, and the deployment-log entry. */
  private async announce(flag: Flag, env: EnvironmentConfig, entry: FlagHistoryEntry, typedIn: string): Promise<void> {
    const message = entry.action === 'kill' ? flagKillNotice(flag, env.name, entry) : flagChangeMessage(flag, env.name, entry);
    await Promise.all(this.channelsFor(env, typedIn).map((channel) => this.d.delivery.send({ key: `flag:${flag.key}:${flag.rev}:${channel}`, channel, ...message })));
    await this.d.store.appendLog({
      deployId: `flag-${flag.key}-${flag.rev}`, kind: 'flag', env: env.name, version: `flag ${flag.key}`, ref: flag.key, deployedBy: entry.user, status: 'succeeded', at: entry.at,
      notes: [`${entry.before ?? '—'} → ${entry.after ?? '—'}${entry.reason ? ` (${entry.reason})` : ''}`],
    });
  }
}

/** "on", "off", "25%", "= 500": what a change asks for, in the audit trail. */
export function changeWords(change: FlagChange): string {
  return change.kind === 'percent' ? `${change.percentage}%` : change.kind === 'set' ? `= ${change.text.slice(0, 200)}` : change.kind;
}

