// The one place a watch takes the new version out again. Today it runs the step's own `abort` command
// (weight 0, `kubectl rollout undo`); routing it to the rollback job is a change to this function only.
import type { StepOutcome } from '../steps/run-step.js';

export interface RollbackRequest {
  /** Why, with the numbers: shown in the step output and the deploy's notes. */
  reason: string;
  /** The configured abort command, already rendered; undefined when none is configured. */
  abortArgv?: string[];
  abortTimeoutMs: number;
  run(argv: string[], timeoutMs: number): Promise<StepOutcome>;
}

export async function rollBack(req: RollbackRequest): Promise<{ ok: boolean; output: string; error?: string }> {
  if (!req.abortArgv) return { ok: true, output: 'no abort command configured: nothing to take out\n' };
  const res = await req.run(req.abortArgv, req.abortTimeoutMs);
  return { ok: res.ok, output: res.output, error: res.error };
}
