// Which configured steps a change runs, by its kind. Every kind is a record in the environment's one queue
// (jobs/queues.ts), run step by step by the same fenced, resumable worker (jobs/deploy.ts); only the steps differ.
import type { EnvironmentConfig, StepConfig } from '../core/config.js';
import type { DeployRecord, StepState } from './deploy-store.js';

/**
 * A rollback runs the environment's `rollback.steps` when configured, else its normal steps with the old version.
 * A 'migrate' record's steps come from its migration (added with /migrate); deploys and hotfixes run `steps`.
 */
export function stepsFor(env: EnvironmentConfig, record: Pick<DeployRecord, 'kind'>): readonly StepConfig[] {
  if (record.kind === 'rollback') return env.rollback?.steps ?? env.steps;
  if (record.kind === 'migrate' && env.migrations) return [env.migrations.backup, env.migrations.run, env.migrations.verify];
  return env.steps;
}

/** The record's step list (all pending) for these step configs. */
export function initialSteps(steps: readonly StepConfig[]): StepState[] {
  return steps.map((s) => ({ name: s.name, kind: 'run' in s ? 'run' : 'workflow' in s ? 'github-workflow' : 'canary' in s ? 'canary' : 'monitor' in s ? 'monitor' : 'http', status: 'pending' }));
}
