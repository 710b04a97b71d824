// The deploy job: runs an environment's steps in order, recording each step in the deploy record
// so a retry or a restart after a crash knows exactly where the deploy stood.
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { EnvironmentConfig } from '../src/core/config.js';
import { escapeMrkdwn } from '../blocks/format.js';
import { roleLabel } from '../src/core/config.js';
import type { Deps } from '../src/deps.js';
import { gateNotes, refusalNotes } from '../src/gates/gate-service.js';
import { isFinal, type DeployRecord } from '../src/deploys/deploy-store.js';
import { runStep, type StepOutcome } from '../src/steps/run-step.js';
import type { DeployVars } from '../src/core/template.js';
import type { DeployJobData } from './queues.js';

export interface DeployProcessorControl {
  /** True once the process is shutting down: the deploy is handed back at the next step boundary. */
  shuttingDown(): boolean;
}

export function createDeployProcessor(deps: Deps, control: DeployProcessorControl) {
  const { store, messenger, config } = deps;

  async function finish(id: string, change: (r: DeployRecord) => void): Promise<DeployRecord> {
    const done = await store.update(id, (r) => {
      change(r);
      r.finishedAt = deps.now();
      for (const s of r.steps) if (s.status === 'pending') s.status = 'skipped';
    });
    await messenger.sync(id);
    await messenger.recordLog({
      deployId: done.id, env: done.env, version: done.version, ref: done.ref, deployedBy: done.requestedBy, status: done.status, kind: done.kind,
      at: done.finishedAt ?? deps.now(), durationMs: done.startedAt ? (done.finishedAt ?? deps.now()) - done.startedAt : undefined,
      notes: [
        ...(done.error ? [escapeMrkdwn(deps.mask(done.error))] : []),
        ...(done.kind === 'rollback' ? [`rollback from ${escapeMrkdwn(done.rollbackFrom ?? 'unknown')}`] : []),
        ...(done.cancelledBy ? [`cancelled by <@${done.cancelledBy}>`] : []),
        ...gateNotes(done, (r) => roleLabel(config, r)),
        ...(await refusalNotes(deps.redis, deps.prefix, done.id)),
        ...done.notes,
      ],
    });
    await messenger.syncEnvironment(done.env);
    return done;
  }

  // Three parameters, so BullMQ hands us the AbortSignal that worker.cancelJob() fires.
  return async function processDeploy(job: Job<DeployJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    const id = job.data.deployId;
    const log = deps.log.child({ job: 'deploy', jobId: job.id, deployId: id });
    let record = await store.get(id);
    if (!record) throw new UnrecoverableError(`deploy ${id} has no record`);
    if (isFinal(record.status)) return record.status;
    const env = config.environments.find((e) => e.name === record?.env);
    if (!env) {
      await finish(id, (r) => ((r.status = 'failed'), (r.error = `Environment ${r.env} is no longer in the config.`)));
      return 'failed';
    }
    if (record.cancelRequestedBy) {
      await finish(id, (r) => ((r.status = 'cancelled'), (r.cancelledBy = r.cancelRequestedBy)));
      return 'cancelled';
    }

    // A record already "running" was picked up before: by a worker that handed it back, or one that died.
    if (record.status === 'running' && !record.handedBack) {
      const at = record.steps.findIndex((s) => s.status === 'running');
      const step = at >= 0 ? env.steps[at] : undefined;
      if (at >= 0 && !step?.retrySafe) {
        log.warn({ step: record.steps[at]?.name }, 'deploy interrupted by a worker crash');
        const stepName = record.steps[at]?.name ?? 'a step';
        await finish(id, (r) => {
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
      record = await store.update(id, (r) => {
        r.notes.push(at >= 0 ? `resumed at “${r.steps[at]?.name}” after a worker crash` : 'resumed after a worker crash');
      });
    }

    record = await store.update(id, (r) => {
      if (r.status === 'queued') r.startedAt = deps.now();
      r.status = 'running';
      r.handedBack = false;
      r.runs += 1;
    });
    await messenger.sync(id);
    await messenger.syncEnvironment(record.env);
    return runSteps(job, token, signal, env, record, log);
  };

  async function runSteps(job: Job<DeployJobData>, token: string | undefined, signal: AbortSignal | undefined, env: EnvironmentConfig, start: DeployRecord, log: Deps['log']): Promise<string> {
    const id = start.id;
    const vars: DeployVars = { env: start.env, version: start.version, ref: start.ref, user: start.requestedBy, deployId: start.id };
    for (let i = start.steps.findIndex((s) => s.status !== 'passed'); i >= 0 && i < env.steps.length; i++) {
      const step = env.steps[i];
      if (!step) break;
      const current = await store.get(id);
      if (current?.cancelRequestedBy || signal?.aborted) {
        await finish(id, (r) => ((r.status = 'cancelled'), (r.cancelledBy = r.cancelRequestedBy)));
        return 'cancelled';
      }
      if (control.shuttingDown()) {
        // Hand the deploy back at this step boundary; another worker (or this one after restart) resumes here.
        log.info({ step: step.name }, 'handing deploy back on shutdown');
        await store.update(id, (r) => {
          r.handedBack = true;
          r.notes.push(`handed back before “${step.name}” when a worker shut down`);
        });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const startedAt = deps.now();
      await store.update(id, (r) => {
        const s = r.steps[i];
        if (s) Object.assign(s, { status: 'running', startedAt, error: undefined, exitCode: undefined });
      });
      await messenger.sync(id);
      log.info({ step: step.name }, 'step started');
      let outcome: StepOutcome;
      try {
        outcome = await runStep(step, vars, deps.stepEnv, signal);
      } catch (err) {
        outcome = { ok: false, cancelled: false, output: '', error: (err as Error).message };
      }
      const finishedAt = deps.now();
      const cancelled = outcome.cancelled || (!outcome.ok && (signal?.aborted ?? false));
      const masked = deps.mask(outcome.output);
      await store.update(id, (r) => {
        const s = r.steps[i];
        if (s) Object.assign(s, { status: outcome.ok ? 'passed' : cancelled ? 'cancelled' : 'failed', finishedAt, durationMs: finishedAt - startedAt, exitCode: outcome.exitCode, error: outcome.error && deps.mask(outcome.error) });
      });
      const outputTs = await messenger.postStepOutput(id, i, masked);
      if (outputTs) {
        await store.update(id, (r) => {
          const s = r.steps[i];
          if (s) s.outputTs = outputTs;
        });
      }
      log.info({ step: step.name, ok: outcome.ok, ms: finishedAt - startedAt }, 'step finished');
      if (cancelled) {
        await finish(id, (r) => ((r.status = 'cancelled'), (r.cancelledBy = r.cancelRequestedBy)));
        return 'cancelled';
      }
      if (!outcome.ok) {
        await finish(id, (r) => ((r.status = 'failed'), (r.error = `Step “${step.name}” failed: ${outcome.error ?? 'unknown error'}.`)));
        return 'failed';
      }
      await messenger.sync(id);
    }
    // The environment's state moves first: once the record says succeeded, promotion rules already see it.
    const at = deps.now();
    await store.setEnvState({ env: start.env, version: start.version, ref: start.ref, deployId: id, deployedBy: start.requestedBy, at });
    await store.markSucceeded(start.env, start.version, at);
    await finish(id, (r) => void (r.status = 'succeeded'));
    log.info('deploy succeeded');
    return 'succeeded';
  }
}
