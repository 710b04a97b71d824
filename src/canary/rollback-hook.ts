// The one place a watch takes the new version out again: the step's own `abort` command (weight 0,
// `kubectl rollout undo`) when configured, and, with `onBreach: rollback`, the environment's rollback job
// (a rollback record to the last good version, ahead of the queue; src/canary/watch-services.ts queues it).
import type { StepOutcome } from '../steps/run-step.js';

/** Queues the rollback job; deduplicated by the caller, so asking twice queues one. */
export type RollbackJobRequester = (reason: string) => Promise<{ ok: true; id: string; to: string; env: string } | { ok: false; error: string }>;

export interface RollbackRequest {
  /** Why, with the numbers: shown in the step output and the deploy's notes (and the rollback's reason). */
  reason: string;
  /** The configured abort command, already rendered; undefined when none is configured. */
  abortArgv?: string[];
  abortTimeoutMs: number;
  run(argv: string[], timeoutMs: number): Promise<StepOutcome>;
  /** onBreach: rollback. Runs after the abort command (which moves traffic at once; the job puts the old version back). */
  requestRollback?: RollbackJobRequester;
}

export interface RollbackResult {
  /** Everything asked for was done. */
  ok: boolean;
  output: string;
  /** What was done, for the deploy's notes: "the abort command ran; rollback #7 to `v1` is queued …". */
  said: string;
  /** What did not work, when !ok. */
  failure?: string;
  /** The rollback record queued. */
  job?: string;
}

export async function rollBack(req: RollbackRequest): Promise<RollbackResult> {
  const said: string[] = [];
  const failures: string[] = [];
  let output = '';
  if (req.abortArgv) {
    const res = await req.run(req.abortArgv, req.abortTimeoutMs);
    output += res.output;
    if (res.ok) said.push('the abort command ran');
    else {
      said.push(`the abort command FAILED (${res.error ?? 'unknown'}): check the environment now`);
      failures.push('the abort command failed');
    }
  }
  let job: string | undefined;
  if (req.requestRollback) {
    const res = await req.requestRollback(req.reason).catch((err: Error) => ({ ok: false as const, error: err.message }));
    if (res.ok) {
      job = res.id;
      said.push(`rollback #${res.id} to \`${res.to}\` is queued ahead of other deploys; ${res.env} stays locked once it succeeds`);
      output += `queued rollback #${res.id} to ${res.to}\n`;
    } else {
      said.push(`the rollback job was NOT queued (${res.error}): roll back by hand (\`/rollback\`)`);
      failures.push('the rollback job was not queued');
      output += `rollback job not queued: ${res.error}\n`;
    }
  }
  if (!req.abortArgv && !req.requestRollback) {
    said.push('no abort command is configured');
    output += 'no abort command configured: nothing to take out\n';
  }
  return { ok: failures.length === 0, output, said: said.join('; '), ...(failures.length ? { failure: failures.join(' and ') } : {}), ...(job ? { job } : {}) };
}
