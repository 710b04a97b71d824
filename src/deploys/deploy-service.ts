// Requesting, cancelling and withdrawing deploys: the part shared by slash commands, buttons and (later) automation.
import { messageKeys } from '../notify/message-keys.js';
import { escapeMrkdwn } from '../../blocks/format.js';
import { roleLabel, type EnvironmentConfig } from '../core/config.js';
import { enqueueDeploy } from './enqueue.js';
import { audit, isFinal, type AuditEntry, type ChangeKind, type DeployRecord, type DeployStore } from './deploy-store.js';
import { initialSteps, stepsFor } from './change-steps.js';
import { EnvLocks } from './locks.js';
import type { ServiceDeps } from '../deps.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../core/errors.js';
import { REQUEST_COMMAND_TIMEOUT_MS } from '../core/redis.js';
import { hasGates, initialGates } from '../gates/gate-rules.js';
import { envForKind } from '../gates/release-kinds.js';
import { RefAmbiguousError, shortSha, type ResolvedRef } from '../versions/resolver.js';
import { soakProblem, timeRulesProblem } from '../schedule/schedule.js';
import { userTimeZone } from '../schedule/user-tz.js';

export interface DeployRequest {
  env: EnvironmentConfig;
  ref: string;
  /** The commit `ref` names (resolveRef); resolved here when the environment has a repository and this is missing. */
  resolved?: ResolvedRef;
  user: string;
  channel: string;
  /** A rollback puts back a version that succeeded here before; it skips the gates (it is the way out). */
  rollbackFrom?: string;
  /** The commit a rollback replaces ({{rollbackFromSha}}). */
  rollbackFromSha?: string;
  /** Why (a rollback's reason; it becomes the environment's lock reason once the rollback succeeds). */
  reason?: string;
  /** 'hotfix' (from /hotfix) may pass a lock where the environment allows; a rollbackFrom makes it 'rollback'. */
  kind?: Extract<ChangeKind, 'deploy' | 'hotfix'>;
  /** The requester marked the change sensitive: the environment's sensitiveRequires roles must approve too. */
  sensitive?: boolean;
  /** Identifies this delivery of the request (Slack's trigger_id): a redelivery creates nothing new. */
  delivery?: string;
  /** Aborted once it is too late to write anything (the ack is about to go out). */
  signal?: AbortSignal;
  /** `--quiet` / `--notify #channel` (src/notify). */
  notify?: { quiet?: boolean; channels?: string[] };
  /** From /release, /hotfix or `--kind`: the release kind's approvals and checklist replace the environment's (src/releases/kinds.ts). */
  release?: DeployRecord['release'];
  /** A hotfix passes deploy freezes (unless the freeze says otherwise) and an enforced release calendar (src/schedule). */
  hotfix?: boolean;
}

export type RequestOutcome =
  | { record: DeployRecord; position: number; existing?: undefined }
  /** Nothing was created: `repeat` is a redelivery of a request already handled, `duplicate` the same version already waiting. */
  | { existing: DeployRecord; reason: 'repeat' | 'duplicate' };

/** How long a create sent from a request stays valid on Redis' side: less than the request connection waits for it. */
const CREATE_WITHIN_MS = REQUEST_COMMAND_TIMEOUT_MS - 200;

/** The deploy was recorded, but whether its job was added is unknown (Redis stopped answering in between). */
export class NotQueuedError extends ConflictError {
  constructor(readonly deployId: string, env: string) {
    super(`Shipmate's database stopped answering while queueing deploy #${deployId}, so it may or may not start. Check \`/deploys ${env}\` in a minute, and cancel it there if it is stuck, before trying again.`);
    this.name = 'NotQueuedError';
  }
}

/**
 * How long resolving a ref may take inside a Slack request: the rest of the commit deadline (1.5 s) is left for
 * the writes. A slow remote is refused rather than let the request fail half-way; its answer is cached for the retry.
 */
export const RESOLVE_IN_REQUEST_MS = 900;
/** Outside a request (automation, rollbacks planned from history need none): git's own timeouts still apply. */
const RESOLVE_ELSEWHERE_MS = 15_000;

/** The repository did not answer in time: nothing was queued. */
export class ResolveTimeoutError extends ConflictError {
  constructor(ref: string, repo: string) {
    super(`Looking up \`${ref}\` in ${repo} took too long, so nothing was queued. Try again in a moment (the answer is kept a few seconds), or give a full commit SHA.`);
    this.name = 'ResolveTimeoutError';
  }
}

function withDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((ok, fail) => {
    const stop = () => fail(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    work.then(ok, fail).finally(() => signal.removeEventListener('abort', stop));
  });
}

export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

export class DeployService {
  /** Environment locks (`/deploys lock`, and after each successful rollback). */
  readonly locks: EnvLocks;

  constructor(private readonly d: ServiceDeps) {
    this.locks = new EnvLocks(d);
  }

  /**
   * The commit `ref` names in the environment's repository, or undefined when none is configured (versions are
   * then ref names). An unknown ref is refused with the nearest branch and tag names, an ambiguous short SHA
   * with its candidates, a repository that does not answer within the request's deadline as too slow.
   */
  async resolveRef(env: EnvironmentConfig, ref: string, signal?: AbortSignal): Promise<ResolvedRef | undefined> {
    const resolver = this.d.versions.resolver(env);
    const repo = this.d.versions.repository(env);
    if (!resolver || !repo) return undefined;
    const deadline = AbortSignal.timeout(signal ? RESOLVE_IN_REQUEST_MS : RESOLVE_ELSEWHERE_MS);
    const budget = signal ? AbortSignal.any([signal, deadline]) : deadline;
    let found: ResolvedRef | undefined;
    try {
      found = await withDeadline(resolver.resolve(ref), budget);
    } catch (err) {
      if (err instanceof RefAmbiguousError) throw new UserInputError(err.message);
      if (budget.aborted) throw new ResolveTimeoutError(ref, repo.spec);
      this.d.log.warn({ ref, repo: repo.spec, err: (err as Error).message }, 'ref not resolved: repository unavailable');
      throw new ConflictError(`Shipmate could not ask ${repo.spec} what \`${ref}\` is (${(err as Error).message}), so nothing was queued.`);
    }
    if (found) return found;
    const near = await withDeadline(resolver.suggestions(ref), budget).catch(() => []);
    throw new UserInputError(`\`${ref}\` is not a branch, tag or commit in ${repo.spec}, so nothing was queued.${near.length ? ` Nearest: ${near.map((n) => `\`${n}\``).join(', ')}.` : ''}`);
  }

  /** Why this version may not go to `env` yet (promotion rule), or undefined. With a commit, that commit must have succeeded there. */
  async promotionProblem(env: EnvironmentConfig, version: string | { ref: string; version: string; sha?: string }, user?: string): Promise<string | undefined> {
    const from = env.requires?.succeededOn;
    const v = typeof version === 'string' ? { ref: version, version } : version;
    if (!from) return undefined;
    const since = await this.d.store.succeededAt(from, v.sha ? { version: v.version, sha: v.sha } : v.version);
    if (since !== undefined) {
      // Soak time (src/schedule): the version must also have been there long enough.
      const now = this.d.now();
      if (!soakProblem(env, v.version, since, now)) return undefined;
      return soakProblem(env, v.version, since, now, user ? await userTimeZone(this.d, user) : undefined);
    }
    if (v.sha) {
      const there = await this.d.store.envState(from);
      // The usual way to get here: promoting a branch that has moved on since it was deployed there.
      const moved = there?.ref === v.ref && there.sha && there.sha !== v.sha
        ? ` \`${v.ref}\` has moved since: ${from} runs ${shortSha(there.sha)}, \`${v.ref}\` is now ${shortSha(v.sha)}.`
        : '';
      return `Commit ${shortSha(v.sha)} (\`${v.version}\`) has not succeeded on *${from}* yet, and ${env.name} takes only commits that have.${moved} Deploy it there first: \`/deploy ${from} ${v.ref}\`.`;
    }
    return `\`${v.version}\` has not succeeded on *${from}* yet, and ${env.name} takes only versions that have. Deploy it there first: \`/deploy ${from} ${v.version}\`.`;
  }

  /**
   * Records the deploy. Without gates it goes straight into its environment's queue; with gates it waits
   * as 'pending' until they are met (GateService starts it). Returns it with its queue position (0 if pending),
   * or — creating nothing — the deploy this request repeats (same `delivery`) or duplicates (same version
   * already pending or queued there).
   *
   * Meant to run inside a Slack request on a fail-fast Redis connection: a Redis error before the record
   * exists means nothing was written; one after it ends the record (so it neither blocks its version nor
   * starts later) and is rethrown, so "nothing was queued" stays true.
   */
  async request(req: DeployRequest): Promise<RequestOutcome> {
    // Past the commit deadline the person may already have been told "not queued": write nothing.
    req.signal?.throwIfAborted();
    const rollback = req.rollbackFrom !== undefined;
    // A deploy of a /hotfix is a hotfix: it may pass a lock (or a freeze) where the environment allows.
    const kind: ChangeKind = rollback ? 'rollback' : (req.kind ?? (req.hotfix || req.release?.type === 'hotfix' ? 'hotfix' : 'deploy'));
    // A locked environment refuses before anything is looked up or written (rollbacks pass: they are the fix).
    await this.locks.checkOpen(req.env, kind);
    const resolved = req.resolved ?? (await this.resolveRef(req.env, req.ref, req.signal));
    req.signal?.throwIfAborted();
    const at = this.d.now();
    // Freezes and an enforced release calendar (src/schedule); a rollback is the way out, so they never hold it.
    if (!rollback && timeRulesProblem(this.d.config, req.env, at, { hotfix: kind === 'hotfix' })) {
      const refusal = timeRulesProblem(this.d.config, req.env, at, { hotfix: kind === 'hotfix' }, await userTimeZone(this.d, req.user)) ?? '';
      await audit(this.d.redis, this.d.prefix, { action: 'deploy.refused', user: req.user, env: req.env.name, detail: `ref ${req.ref}: time rules` }, at);
      throw new UserInputError(`${refusal} Nothing was queued.`);
    }
    const gateEnv = envForKind(this.d.config, req.env, req.release?.kind);
    const gated = hasGates(gateEnv) && !rollback;
    const result = await this.d.store.createOnce({
      env: req.env.name,
      ref: req.ref,
      version: resolved?.tag ?? req.ref,
      ...(resolved ? { sha: resolved.sha, ...(resolved.tag ? { tag: resolved.tag } : {}) } : {}),
      requestedBy: req.user,
      channel: req.channel,
      ...(rollback ? { kind: 'rollback' as const, rollbackFrom: req.rollbackFrom, ...(req.rollbackFromSha ? { rollbackFromSha: req.rollbackFromSha } : {}) } : kind !== 'deploy' ? { kind } : {}),
      ...(req.reason ? { reason: req.reason } : {}),
      status: gated ? 'pending' : 'queued',
      createdAt: at,
      queuedAt: gated ? undefined : at,
      gates: gated ? initialGates(gateEnv, { sensitive: req.sensitive }) : undefined,
      ...(req.notify ? { notify: req.notify } : {}),
      ...(req.release ? { release: req.release } : {}),
      steps: initialSteps(stepsFor(req.env, { kind })),
    }, {
      // Shorter than the request connection's command timeout: a create this client gave up on never happens later.
      validForMs: req.signal ? CREATE_WITHIN_MS : undefined,
      delivery: req.delivery,
      unique: true,
      audit: rollback
        ? { action: 'rollback.requested', user: req.user, env: req.env.name, detail: `${req.rollbackFrom || '?'} -> ${req.ref}${req.reason ? `: ${req.reason}` : ''}` }
        : { action: 'deploy.requested', user: req.user, env: req.env.name, detail: `${resolved ? `${req.ref} ${resolved.sha}` : req.ref}${kind === 'hotfix' ? ' (hotfix)' : ''}` },
    });
    if (!('created' in result)) {
      const existing = await this.d.store.get(result.existing);
      if (!existing) throw new ConflictError(`Deploy #${result.existing} no longer exists; try again.`);
      return { existing, reason: result.reason };
    }
    let record = result.created;
    try {
      if (gated) {
        if (gateEnv.checklist.some((section) => section.items.some((it) => it.check))) {
          await this.d.queues.scheduleGateJob({ kind: 'checks', deployId: record.id }, 0, `${record.id}-first`);
        }
      } else {
        record = await enqueueDeploy(this.d, record);
        // In the background, never holding the request: GitHub's Deployment says "queued" too.
        void this.d.githubDeployments.queued(record.id);
      }
    } catch (err) {
      try {
        await this.abandon(record.id, req.user);
      } catch (e) {
        this.d.log.error({ deployId: record.id, err: (e as Error).message }, 'deploy recorded but neither queued nor ended');
        throw new NotQueuedError(record.id, req.env.name);
      }
      throw err;
    }
    // The deploy is queued now: a failing read must not turn the reply into "nothing was queued".
    const position = gated ? 0 : await this.d.messenger.position(record).catch(() => 1);
    this.d.notifier.requested(record);
    return { record, position };
  }

  /** Ends a deploy whose job could not be added, so it is visibly not happening. */
  private async abandon(id: string, user: string): Promise<void> {
    await this.d.store.update(id, (r) => {
      if (r.status !== 'pending' && r.status !== 'queued') return false;
      r.status = 'cancelled';
      r.cancelledBy = user;
      r.finishedAt = this.d.now();
      r.error = 'Shipmate lost its database connection before the deploy was queued.';
      for (const s of r.steps) s.status = 'skipped';
    });
  }

  private env(record: DeployRecord): EnvironmentConfig | undefined {
    return this.d.config.environments.find((e) => e.name === record.env);
  }

  /**
   * Stops or cancels a deploy that has left its gates: a queued one leaves the queue at once; a running one is
   * stopped (its command is terminated and no further step runs). Only its requester or the environment's
   * deployers (everyone when it names none) may. A deploy still waiting for its gates is withdrawn instead.
   */
  async cancel(id: string, user: string): Promise<'cancelled' | 'stopping'> {
    const record = await this.d.store.get(id);
    if (!record) throw new ConflictError(`Deploy #${id} no longer exists.`);
    if (isFinal(record.status)) {
      throw new ConflictError(`Deploy #${id} has already ended (${record.status}); there is nothing to cancel.`);
    }
    if (record.status === 'pending') {
      throw new ConflictError(`Deploy #${id} has not started: it waits for its gates. Use *Withdraw* on its gate message (you will be asked why).`);
    }
    const env = this.env(record);
    if (user !== record.requestedBy && !(env && (await this.d.roles.mayDeploy(env, user)))) {
      await audit(this.d.redis, this.d.prefix, { action: 'deploy.cancel-refused', user, deployId: id, env: record.env }, this.d.now());
      this.d.log.warn({ deployId: id, user }, 'cancel refused: not allowed');
      throw new NotAuthorizedError(`Only <@${record.requestedBy}> or someone allowed to deploy to ${record.env} can cancel deploy #${id}.`);
    }
    if (record.status === 'queued' && (await this.d.queues.removeWaiting(record.env, id))) {
      const { after: done, applied } = await updateApplied(this.d.store, id, (r) => {
        if (r.status !== 'queued') return false;
        r.status = 'cancelled';
        r.cancelledBy = user;
        r.finishedAt = this.d.now();
        for (const s of r.steps) if (s.status === 'pending') s.status = 'skipped';
      }, (next) => [{ action: 'deploy.cancelled', user, deployId: id, env: next.env }]);
      if (applied) {
        await this.d.messenger.sync(id);
        if (done.gates) await this.d.messenger.syncGate(id);
        await this.d.messenger.recordLog({
          deployId: id, env: done.env, version: done.version, ref: done.ref, ...(done.sha ? { sha: done.sha } : {}), deployedBy: done.requestedBy, kind: done.kind,
          status: 'cancelled', at: this.d.now(), notes: [`cancelled by <@${user}> before it started`, ...done.notes],
        });
        await this.d.messenger.syncEnvironment(done.env);
        this.d.notifier.finished(done);
        this.d.log.info({ deployId: id, user }, 'deploy cancelled before it started');
        return 'cancelled';
      }
    }
    // A worker holds it: ask every worker process to stop it; the worker also checks between steps.
    const { after, applied } = await updateApplied(this.d.store, id, (r) => {
      if (isFinal(r.status) || r.cancelRequestedBy) return false;
      r.cancelRequestedBy = user;
    }, (next) => [{ action: 'deploy.stop-requested', user, deployId: id, env: next.env }]);
    if (!applied) {
      throw new ConflictError(isFinal(after.status) ? `Deploy #${id} has already ended (${after.status}); there is nothing to cancel.` : `A stop of deploy #${id} was already requested by <@${after.cancelRequestedBy}>; it stops at once.`);
    }
    await this.d.redis.publish(cancelChannel(this.d.prefix), id);
    await this.d.messenger.sync(id);
    this.d.log.info({ deployId: id, user }, 'deploy stop requested');
    return 'stopping';
  }

  /** Who may withdraw a deploy that still waits for its gates: its requester, or someone holding one of the environment's sign-off roles. */
  async checkMayWithdraw(id: string, user: string): Promise<DeployRecord> {
    const record = await this.d.store.get(id);
    if (!record) throw new ConflictError(`Deploy #${id} no longer exists.`);
    if (record.status !== 'pending') {
      throw new ConflictError(isFinal(record.status) ? `Deploy #${id} has already ended (${record.status}).` : `Deploy #${id} no longer waits for its gates (it is ${record.status}); stop it from its status message.`);
    }
    const signers = this.env(record)?.approvals?.roles ?? [];
    // hasAnyRole([]) means "no restriction"; here no sign-off roles means only the requester.
    if (user !== record.requestedBy && !(signers.length > 0 && (await this.d.roles.hasAnyRole(user, signers)))) {
      await audit(this.d.redis, this.d.prefix, { action: 'deploy.withdraw-refused', user, deployId: id, env: record.env }, this.d.now());
      this.d.log.warn({ deployId: id, user }, 'withdraw refused: not allowed');
      const who = signers.length ? ` or someone holding a sign-off role for ${record.env} (${signers.map((r) => roleLabel(this.d.config, r)).join(', ')})` : '';
      throw new NotAuthorizedError(`Only <@${record.requestedBy}>${who} can withdraw deploy #${id}.`);
    }
    return record;
  }

  /** Withdraws a pending deploy with the reason given; said in the gate message's thread and in the deploy log. */
  async withdraw(id: string, user: string, reason: string): Promise<DeployRecord> {
    await this.checkMayWithdraw(id, user);
    const at = this.d.now();
    const { after, applied } = await updateApplied(this.d.store, id, (r) => {
      if (r.status !== 'pending') return false;
      r.status = 'cancelled';
      r.cancelledBy = user;
      r.finishedAt = at;
      if (r.gates) r.gates.withdrawn = { user, reason, at };
      for (const s of r.steps) if (s.status === 'pending') s.status = 'skipped';
    }, (next) => [{ action: 'deploy.withdrawn', user, deployId: id, env: next.env, detail: reason }]);
    if (!applied) {
      throw new ConflictError(after.gates?.withdrawn ? `Deploy #${id} was already withdrawn by <@${after.gates.withdrawn.user}>.` : `Deploy #${id} no longer waits for its gates (it is ${after.status}); nothing was withdrawn.`);
    }
    this.d.log.info({ deployId: id, user }, 'deploy withdrawn');
    this.d.notifier.finished(after);
    await this.d.messenger.syncGate(id);
    const text = `:no_entry_sign: <@${user}> withdrew deploy #${id} (\`${after.version}\` → ${after.env}, requested by <@${after.requestedBy}>): ${escapeMrkdwn(reason)}`;
    await this.d.delivery.send({ key: `deploy:${id}:withdrawn`, channel: after.channel, threadOf: messageKeys.gate(id), text });
    await this.d.messenger.recordLog({
      deployId: id, env: after.env, version: after.version, ref: after.ref, ...(after.sha ? { sha: after.sha } : {}), deployedBy: after.requestedBy,
      status: 'cancelled', at, notes: [`withdrawn by <@${user}> before its gates were met: ${escapeMrkdwn(reason)}`, ...after.notes],
    });
    return after;
  }
}

/** store.update that also says whether this call's change is the one that was stored; its audit entries go into the same write. */
export async function updateApplied(
  store: DeployStore, id: string, change: (record: DeployRecord) => void | false, auditOf?: (next: DeployRecord, previous: DeployRecord) => AuditEntry[],
): Promise<{ after: DeployRecord; applied: boolean }> {
  const { record, applied } = await store.updateApplied(id, change, { audit: auditOf });
  return { after: record, applied };
}
