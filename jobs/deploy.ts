// The deploy job: runs an environment's steps in order, recording each step in the deploy record
// so a retry or a restart after a crash knows exactly where the deploy stood. Each pickup is a run
// (jobs/deploy-run.ts) whose writes are fenced by its token: a run that lost the deploy kills its
// step and writes nothing more, and a new run first kills what a dead run's step left on this host.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { EnvironmentConfig } from '../src/core/config.js';
import { escapeMrkdwn } from '../blocks/format.js';
import { roleLabel } from '../src/core/config.js';
import type { Deps } from '../src/deps.js';
import { gateNotes, refusalNotes } from '../src/gates/gate-service.js';
import { isFinal, type DeployRecord } from '../src/deploys/deploy-store.js';
import { killStepGroup } from '../src/steps/run-command.js';
import { runStep, type StepOutcome } from '../src/steps/run-step.js';
import { deployVars, type DeployVars } from '../src/core/template.js';
import { changesBetween } from '../src/versions/changes.js';
import type { CommitInfo, RefResolver } from '../src/versions/resolver.js';
import { DeployRun, LostRunError } from './deploy-run.js';
import { stepsFor } from '../src/deploys/change-steps.js';
import { LockedError } from '../src/deploys/locks.js';
import { WATCH_QUEUE, type DeployJobData } from './queues.js';
import { migrationVars } from '../src/migrations/migrations.js';
import { recordMigrationDone } from '../src/migrations/migration-service.js';
import { watchServices } from '../src/canary/watch-services.js';

/** Kills what an earlier run's step left running on this host (e.g. a dead worker's grandchildren). */
export async function killLeftovers(record: DeployRecord, log: Deps['log']): Promise<void> {
  for (const s of record.steps) {
    if (s.pgid === undefined) continue;
    if (s.host !== hostname()) {
      log.info({ step: s.name, host: s.host }, 'the previous run was on another host: its lease ends it');
      continue;
    }
    if (await killStepGroup(s.pgid, stepMarker(record.id))) log.warn({ step: s.name, pgid: s.pgid }, 'killed processes a previous run of this deploy left running');
  }
}

export interface DeployProcessorControl {
  /** True once the process is shutting down: the deploy is handed back at the next step boundary. */
  shuttingDown(): boolean;
  /** The workers' BullMQ lock duration: a run whose lock went unrenewed for most of it stops by itself. */
  lockDuration: number;
}

export interface DeployProcessor {
  process(job: Job<DeployJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<string>;
  /** Worker 'locksRenewed': these jobs' runs still hold their deploys. */
  locksRenewed(jobIds: readonly string[]): void;
  /** Worker 'lockRenewalFailed': these jobs' runs have lost their deploys and stop at once. */
  lockRenewalFailed(jobIds: readonly string[]): void;
}

/** Marks the environment a step's processes carry, so killStepGroup never kills a reused process group. */
const stepMarker = (deployId: string) => `SHIPMATE_DEPLOY_ID=${deployId}`;

export function createDeployProcessor(deps: Deps, control: DeployProcessorControl): DeployProcessor {
  const { store, messenger, config } = deps;
  const runs = new Map<string, DeployRun>();
  /** A started deploy's announcement (status message, line, notices), made while its first step starts; awaited before it ends. */
  const announcing = new Map<string, Promise<void>>();

  /** Ends the deploy. Only the run whose write set the final status records the log entry: exactly one per deploy. */
  async function finish(run: DeployRun, change: (r: DeployRecord) => void): Promise<DeployRecord> {
    // A start announcement rendered after the end would put the deploy back in its environment's line.
    await announcing.get(run.deployId);
    let ended = false;
    const done = await run.write((r) => {
      ended = false;
      if (isFinal(r.status)) return false; // ended by someone else (e.g. markFailed): their entry stands
      change(r);
      r.finishedAt = deps.now();
      for (const s of r.steps) {
        if (s.status === 'pending') s.status = 'skipped';
        delete s.pgid;
        delete s.host;
      }
      ended = isFinal(r.status);
    });
    // A parked canary's environment opens to the next change the moment its deploy has ended (jobs/env-lease.ts).
    if (isFinal(done.status) && mayHoldLease(done)) await releaseLease(done.env, done.id);
    await messenger.sync(run.deployId);
    if (!ended) return done;
    deps.notifier.finished(done);
    await messenger.recordLog({
      deployId: done.id, env: done.env, version: done.version, ref: done.ref, ...(done.sha ? { sha: done.sha } : {}), deployedBy: done.requestedBy, status: done.status, kind: done.kind,
      ...(done.firstCommitAt !== undefined ? { firstCommitAt: done.firstCommitAt } : {}),
      at: done.finishedAt ?? deps.now(), durationMs: done.startedAt ? (done.finishedAt ?? deps.now()) - done.startedAt : undefined,
      notes: [
        ...(done.error ? [escapeMrkdwn(deps.mask(done.error))] : []),
        ...(done.kind === 'rollback' ? [`rollback from ${escapeMrkdwn(done.rollbackFrom ?? 'unknown')} to ${escapeMrkdwn(done.version)}`, ...(done.reason ? [`why: ${escapeMrkdwn(done.reason)}`] : [])] : []),
        ...(done.cancelledBy ? [`cancelled by <@${done.cancelledBy}>`] : []),
        ...gateNotes(done, (r) => roleLabel(config, r)),
        ...(await refusalNotes(deps.redis, deps.prefix, done.id)),
        ...done.notes,
      ],
    });
    await messenger.syncEnvironment(done.env);
    // In the background: GitHub being slow or down never holds the deploy (failures are noted on the record).
    void deps.githubDeployments.finished(done);
    return done;
  }

  /** Only a deploy whose canary/monitor parked ever took its environment's lease. */
  const mayHoldLease = (r: DeployRecord) => r.steps.some((s) => s.watch !== undefined);

  async function releaseLease(env: string, deployId: string): Promise<void> {
    await deps.queues.leases.release(env, deployId).catch((err: Error) => deps.log.warn({ env, deployId, err: err.message }, 'environment lease not released (the sweep will)'));
  }

  /**
   * At a deploy's start: the commit its environment runs now ({{previousSha}}) and the commits going out, for the
   * status message. Only where versions are commits; a git that is slow or failing leaves the list out, never the deploy.
   */
  async function changesGoingOut(record: DeployRecord, log: Deps['log']): Promise<Pick<DeployRecord, 'previousSha' | 'commits' | 'commitCount' | 'firstCommitAt'> | undefined> {
    if (!record.sha) return undefined;
    const previousSha = (await store.envState(record.env))?.sha;
    const resolver = deps.versions.resolver(record.env);
    const changes = resolver ? await changesBetween(resolver, previousSha, record.sha).catch((err: Error) => {
      log.warn({ err: err.message }, 'commit list not computed');
      return undefined;
    }) : undefined;
    const firstCommitAt = resolver && changes ? await oldestCommitTime(resolver, previousSha, record.sha, changes).catch(() => undefined) : undefined;
    return { ...(previousSha ? { previousSha } : {}), ...changes, ...(firstCommitAt !== undefined ? { firstCommitAt } : {}) };
  }

  // Three parameters, so BullMQ hands us the AbortSignal that worker.cancelJob() fires.
  async function processDeploy(job: Job<DeployJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    const id = job.data.deployId;
    const log = deps.log.child({ job: 'deploy', jobId: job.id, deployId: id });
    const jobId = job.id ?? id;
    const run = new DeployRun(id, token ?? randomUUID(), { store, lockDuration: control.lockDuration, log });
    runs.set(jobId, run);
    try {
      return await take(job, token, signal, run, log);
    } catch (err) {
      if (!(err instanceof LostRunError)) throw err;
      // Nothing more is written. If BullMQ's lock is still ours, hand the job back so a new run resumes the
      // deploy; if not, the stall check already has (or will).
      if (token) await job.moveToWait(token).catch(() => undefined);
      throw new WaitingError();
    } finally {
      run.stop();
      if (runs.get(jobId) === run) runs.delete(jobId);
      await announcing.get(id);
      announcing.delete(id);
    }
  }

  async function take(job: Job<DeployJobData>, token: string | undefined, signal: AbortSignal | undefined, run: DeployRun, log: Deps['log']): Promise<string> {
    const id = run.deployId;
    const found = await store.get(id);
    if (!found) throw new UnrecoverableError(`deploy ${id} has no record`);
    if (isFinal(found.status)) {
      if (mayHoldLease(found)) await releaseLease(found.env, id);
      return found.status;
    }
    // A change of an environment whose lease another deploy's parked canary holds does not start: it goes back to
    // the head of the wait list, and the queue stays closed until the lease is released (jobs/env-lease.ts).
    if (job.queueName !== WATCH_QUEUE) {
      const owner = await deps.queues.leases.owner(found.env);
      if (owner && owner !== id) {
        const holder = await store.get(owner);
        if (holder && !isFinal(holder.status)) {
          log.info({ env: found.env, owner }, 'environment leased by a parked canary: the change waits');
          await deps.queues.leases.init([found.env]);
          await job.moveToWait(token);
          throw new WaitingError();
        }
        await releaseLease(found.env, owner);
      }
    }
    let record = await run.claim();
    if (!record) return (await store.get(id))?.status ?? 'failed';
    await killLeftovers(record, log);
    const env = config.environments.find((e) => e.name === record?.env);
    if (!env) {
      await finish(run, (r) => ((r.status = 'failed'), (r.error = `Environment ${r.env} is no longer in the config.`)));
      return 'failed';
    }
    if (record.cancelRequestedBy) {
      await finish(run, (r) => {
        r.status = 'cancelled';
        r.cancelledBy = r.cancelRequestedBy;
        delete r.parkedUntil;
        // A parked watch stopped by the cancel that woke it.
        for (const s of r.steps) if (s.status === 'running') s.status = 'cancelled';
      });
      return 'cancelled';
    }

    // A lock set while this change waited (e.g. by the rollback that jumped ahead of it) stops it before it starts.
    if (record.status === 'queued') {
      const locked = await deps.deploys.locks.checkOpen(env, record.kind ?? 'deploy').then(() => undefined, (err: unknown) => {
        if (err instanceof LockedError) return err;
        throw err;
      });
      if (locked) {
        log.info({ env: env.name }, 'change not started: its environment was locked while it waited');
        await finish(run, (r) => ((r.status = 'cancelled'), (r.error = `Not started: ${locked.message}`)));
        return 'cancelled';
      }
    }

    // A parked watch woken up (its time came, or a click): it goes on quietly, announced and counted once already.
    const woken = record.status === 'running' && record.parkedUntil !== undefined;
    // A record already "running" was picked up before: by a worker that handed it back, or one that died.
    if (record.status === 'running' && !record.handedBack) {
      const at = record.steps.findIndex((s) => s.status === 'running');
      const step = at >= 0 ? stepsFor(env, record)[at] : undefined;
      if (at >= 0 && !step?.retrySafe) {
        log.warn({ step: record.steps[at]?.name }, 'deploy interrupted by a worker crash');
        const stepName = record.steps[at]?.name ?? 'a step';
        await finish(run, (r) => {
          r.status = 'interrupted';
          const s = r.steps[at];
          if (s) {
            s.status = 'interrupted';
            s.error = 'the worker stopped during this step';
          }
          r.error = `The worker running this deploy stopped during “${stepName}”. The step is not marked retrySafe, so it was not run again: check ${r.env} and deploy again.`;
        });
        return 'interrupted';
      }
      log.info({ step: at }, 'resuming deploy after a worker crash');
      record = await run.write((r) => {
        r.notes.push(at >= 0 ? `resumed at “${r.steps[at]?.name}” after a worker crash` : 'resumed after a worker crash');
      });
    }

    const going = record.status === 'queued' ? await changesGoingOut(record, log) : undefined;
    record = await run.write((r) => {
      if (r.status === 'queued') r.startedAt = deps.now();
      if (going) Object.assign(r, going);
      r.status = 'running';
      r.handedBack = false;
      delete r.parkedUntil;
      if (!woken) r.runs += 1;
    });
    if (woken) return runSteps(job, token, signal, run, env, record, log, true);
    // The announcement only renders and enqueues (delivery makes the Slack calls), so the first step does not wait
    // for it: it runs alongside and is awaited before the deploy ends (finish). Request → first step, bench/pipeline.ts.
    const started = record;
    announcing.set(id, (async () => {
      const [, , current] = await Promise.all([messenger.sync(id), messenger.syncEnvironment(started.env), store.envState(started.env)]);
      deps.notifier.starting(started);
      const replaces = current?.deployId;
      void deps.githubDeployments.started(id, replaces !== id ? replaces : undefined);
    })().catch((err: Error) => log.warn({ err: err.message }, 'deploy start not announced')));
    return runSteps(job, token, signal, run, env, record, log);
  }

  async function runSteps(job: Job<DeployJobData>, token: string | undefined, signal: AbortSignal | undefined, run: DeployRun, env: EnvironmentConfig, start: DeployRecord, log: Deps['log'], woken = false): Promise<string> {
    const id = start.id;
    // A migrate record runs its migration's backup, script and verify steps (src/migrations), a deploy the environment's.
    const steps = stepsFor(env, start);
    const vars: DeployVars = migrationVars(env, start, deployVars(start));
    const first = start.steps.findIndex((s) => s.status !== 'passed');
    for (let i = first; i >= 0 && i < steps.length; i++) {
      const step = steps[i];
      if (!step) break;
      // The first step goes by the record just written; a cancel since then has aborted `signal`.
      const current = i === first ? start : await store.get(id);
      if (current?.cancelRequestedBy || signal?.aborted) {
        await finish(run, (r) => ((r.status = 'cancelled'), (r.cancelledBy = r.cancelRequestedBy)));
        return 'cancelled';
      }
      if (control.shuttingDown()) {
        // Hand the deploy back at this step boundary; another worker (or this one after restart) resumes here.
        log.info({ step: step.name }, 'handing deploy back on shutdown');
        await run.write((r) => {
          r.handedBack = true;
          r.notes.push(`handed back before “${step.name}” when a worker shut down`);
        });
        await announcing.get(id);
        await messenger.sync(id);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // A woken watch's step goes on: it started when it first ran (its duration counts from there).
      const resumesWatch = woken && i === first && current?.steps[i]?.status === 'running';
      const startedAt = (resumesWatch ? current?.steps[i]?.startedAt : undefined) ?? deps.now();
      if (!resumesWatch) {
        await run.write((r) => {
          const s = r.steps[i];
          if (s) Object.assign(s, { status: 'running', startedAt, error: undefined, exitCode: undefined, pgid: undefined, host: undefined });
        });
        await messenger.sync(id);
        log.info({ step: step.name }, 'step started');
      }
      let outcome: StepOutcome;
      try {
        outcome = await runStep(step, vars, deps.stepEnv, signal, {
          kill: run.signal,
          // A github-workflow step stores its run with writes fenced by this run; a resumed run re-attaches to it.
          workflow: {
            github: deps.github,
            stored: current?.steps[i]?.workflowRun,
            correlationId: `shipmate-${id}-${i + 1}`,
            claim: async (runId) => {
              const key = `${deps.prefix}:github:run:${runId}`;
              const mine = `${id}:${i}`;
              const ok = await deps.redis.set(key, mine, 'EX', 7 * 86_400, 'NX');
              return ok === 'OK' || (await deps.redis.get(key)) === mine;
            },
            save: async (ref) => void (await run.write((r) => {
              const s = r.steps[i];
              if (s) s.workflowRun = ref;
            })),
          },
          // A canary/monitor step keeps its watch in the record through writes fenced by this run.
          watch: {
            // Asking people about a pause and queueing the rollback job (src/canary/watch-services.ts).
            ...watchServices(deps, env, id, i, step),
            stored: current?.steps[i]?.watch,
            request: async () => (await store.get(id))?.steps[i]?.watchRequest,
            save: async (state, handled) => void (await run.write((r) => {
              const s = r.steps[i];
              if (!s) return;
              s.watch = state;
              if (handled && s.watchRequest?.at === handled.at && s.watchRequest.action === handled.action) delete s.watchRequest;
            })),
            note: async (text) => void (await run.write((r) => void r.notes.push(text))),
            changed: () => messenger.sync(id),
            now: deps.now,
            shuttingDown: control.shuttingDown,
            parking: true,
            woken: resumesWatch,
          },
          // The command starts only once its process group is recorded by a write fenced by this run.
          startGate: async (pgid) => {
            try {
              await run.write((r) => {
                const s = r.steps[i];
                if (s) Object.assign(s, { pgid, host: hostname() });
              });
              return true;
            } catch (err) {
              if (err instanceof LostRunError) return false;
              throw err;
            }
          },
        });
      } catch (err) {
        outcome = { ok: false, cancelled: false, output: '', error: (err as Error).message };
      }
      run.check(); // a run that lost the deploy during the step (its step was killed) writes nothing about it
      if (outcome.handBack) {
        // A canary/monitor hold is not waited out on shutdown: the step stays running with its state saved, and
        // the next run resumes the watch where it stood.
        log.info({ step: step.name }, 'handing deploy back mid-watch on shutdown');
        await run.write((r) => {
          r.handedBack = true;
          r.notes.push(`handed back during “${step.name}” when a worker shut down`);
        });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (outcome.park) return park(job, token, run, env, i, outcome.park.until, log);
      const finishedAt = deps.now();
      const cancelled = outcome.cancelled || (!outcome.ok && (signal?.aborted ?? false));
      const masked = deps.mask(outcome.output);
      await run.write((r) => {
        const s = r.steps[i];
        if (s) Object.assign(s, { pgid: undefined, host: undefined, status: outcome.ok ? 'passed' : cancelled ? 'cancelled' : 'failed', finishedAt, durationMs: finishedAt - startedAt, exitCode: outcome.exitCode, error: outcome.error && deps.mask(outcome.error) });
      });
      await messenger.postStepOutput(id, i, masked);
      log.info({ step: step.name, ok: outcome.ok, ms: finishedAt - startedAt }, 'step finished');
      if (cancelled) {
        await finish(run, (r) => ((r.status = 'cancelled'), (r.cancelledBy = r.cancelRequestedBy)));
        return 'cancelled';
      }
      if (!outcome.ok) {
        await finish(run, (r) => ((r.status = 'failed'), (r.error = `Step “${step.name}” failed: ${outcome.error ?? 'unknown error'}.`)));
        return 'failed';
      }
      // No re-render here: the next step's start (or the end, in finish) shows this step passed a moment later.
    }
    // The environment's state moves first: once the record says succeeded, promotion rules already see it.
    const at = deps.now();
    run.check();
    if (start.kind === 'migrate') {
      // A migration leaves the deployed version alone; it is recorded as applied (or rolled back) there.
      await recordMigrationDone(deps, start, at);
    } else {
      await store.setEnvState({ env: start.env, version: start.version, ref: start.ref, ...(start.sha ? { sha: start.sha } : {}), ...(start.tag ? { tag: start.tag } : {}), deployId: id, deployedBy: start.requestedBy, at });
      await store.markSucceeded(start.env, start, at);
      // A rollback leaves its environment locked with its reason until someone unlocks it (what it undid needs a
      // look first); locked before the record says succeeded, so whoever sees it done sees the lock. A crash before
      // the final write resumes here and asserts it again (idempotent per rollback); a lock that cannot be written
      // hands the job back rather than end the rollback without it.
      if (start.kind === 'rollback') {
        await deps.deploys.locks.lockAfterRollback(env, start).catch((err: Error) => {
          log.error({ err: err.message }, 'environment not locked after the rollback: handing the job back');
          run.lose(`environment not locked after the rollback (${err.message})`);
          run.check();
        });
      }
    }
    await finish(run, (r) => void (r.status = 'succeeded'));
    log.info('deploy succeeded');
    return 'succeeded';
  }

  /**
   * Parks a watch between evaluations: the deploy gives its worker back and waits as its wake-up job, delayed until
   * `until`, in the `watch` queue. Leaving the environment's queue it first takes the environment's lease, so no other
   * change of it starts meanwhile; in the `watch` queue the job itself moves back to delayed. Nothing runs the deploy
   * until the wake-up: the record says so (parkedUntil) before the job is delayed.
   */
  async function park(job: Job<DeployJobData>, token: string | undefined, run: DeployRun, env: EnvironmentConfig, i: number, until: number, log: Deps['log']): Promise<string> {
    const id = run.deployId;
    const wakeAt = Date.now() + Math.max(0, until - deps.now());
    const fromEnvQueue = job.queueName !== WATCH_QUEUE;
    // Taken while this job is the environment's one active change: no other change of it can be running now.
    if (fromEnvQueue) await deps.queues.leases.hold(env.name, id);
    await run.write((r) => {
      r.parkedUntil = until;
      r.handedBack = true;
    });
    if (fromEnvQueue) await deps.queues.park(id, wakeAt);
    else await job.moveToDelayed(wakeAt, token);
    // A click or a cancel recorded just before the park found nothing to wake: it wakes the watch now.
    const now = await store.get(id);
    if (now?.cancelRequestedBy || now?.steps[i]?.watchRequest) await deps.queues.wake(id);
    log.debug({ until, fromEnvQueue }, 'watch parked');
    if (fromEnvQueue) return 'parked';
    throw new DelayedError();
  }

  return {
    process: processDeploy,
    locksRenewed: (jobIds) => jobIds.forEach((j) => runs.get(j)?.renewed()),
    lockRenewalFailed: (jobIds) => jobIds.forEach((j) => runs.get(j)?.lose('BullMQ could not renew the job lock')),
  };
}

/**
 * Lead time starts at the oldest commit a deploy ships (insight's DORA numbers). The status message's list is capped,
 * so a longer change list is read once more, up to 1000 commits. With nothing deployed before, the shipped commit itself.
 */
async function oldestCommitTime(resolver: RefResolver, previousSha: string | undefined, sha: string, changes: { commits: CommitInfo[]; commitCount?: number }): Promise<number | undefined> {
  if (!previousSha) return (await resolver.commitsBetween(undefined, sha, 1))[0]?.at;
  if (changes.commits.length === 0) return undefined; // nothing new goes out (a rollback, a redeploy)
  const all = changes.commitCount !== undefined && changes.commitCount > changes.commits.length ? await resolver.commitsBetween(previousSha, sha, 1000) : changes.commits;
  const times = all.map((c) => c.at).filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}
