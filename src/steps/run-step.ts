// Runs one configured step (a command or an HTTP check) with the deploy's variables substituted.
import type { StepConfig } from '../core/config.js';
import { renderTemplate, type DeployVars } from '../core/template.js';
import { runWatch, type WatchContext } from '../canary/watch.js';
import { runGithubWorkflow, type WorkflowContext } from './github-workflow.js';
import { httpCheck } from './http-check.js';
import { runCommand, type CommandOptions } from './run-command.js';
import { stepEnv } from './step-env.js';

export interface StepOutcome {
  ok: boolean;
  cancelled: boolean;
  output: string;
  exitCode?: number | null;
  error?: string;
  /** A long watch (canary/monitor) stopped for a worker shutdown: its state is saved, the deploy is handed back at it. */
  handBack?: boolean;
  /** A watch waiting for its next evaluation: its state is saved; the deploy job parks until `until` (deps.now() ms). */
  park?: { until: number };
}

/** How the deploy job holds a step's processes: `kill` stops them at once, `startGate` runs first (see runCommand). */
export type StepProcessControl = Pick<CommandOptions, 'kill' | 'startGate'> & {
  /** For a github-workflow step: the GitHub client and where its run is stored. */
  workflow?: WorkflowContext;
  /** For a canary or monitor step: where its state is kept and how clicks reach it (jobs/deploy.ts). */
  watch?: Omit<WatchContext, 'run'>;
};

/**
 * Runs one configured step with the deploy's variables substituted. `baseEnv` is what every step starts
 * from (see baseStepEnv: never Shipmate's whole environment). Output is returned unmasked.
 */
export async function runStep(step: StepConfig, vars: DeployVars, baseEnv: NodeJS.ProcessEnv, signal?: AbortSignal, processes: StepProcessControl = {}): Promise<StepOutcome> {
  if ('run' in step) {
    const argv = step.run.map((a) => renderTemplate(a, vars));
    const env = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, renderTemplate(v, vars)]));
    const res = await runCommand(argv, { cwd: step.cwd, env: stepEnv(baseEnv, vars, env), timeoutMs: step.timeout, signal, ...processes });
    const header = `$ ${argv.map(displayArg).join(' ')}\n`;
    if (res.spawnError) return { ok: false, cancelled: false, output: header + res.output, error: `could not start ${argv[0]}: ${res.spawnError}` };
    if (res.cancelled) return { ok: false, cancelled: true, output: header + res.output, exitCode: res.exitCode, error: 'stopped (cancelled)' };
    if (res.timedOut) return { ok: false, cancelled: false, output: header + res.output, exitCode: res.exitCode, error: `timed out after ${Math.round(step.timeout / 1000)} s` };
    if (res.exitCode !== 0) return { ok: false, cancelled: false, output: header + res.output, exitCode: res.exitCode, error: res.exitCode === null ? `killed by ${res.signal}` : `exit code ${res.exitCode}` };
    return { ok: true, cancelled: false, output: header + res.output, exitCode: 0 };
  }
  if ('workflow' in step) {
    const stop = processes.kill ? AbortSignal.any([signal, processes.kill].filter((s): s is AbortSignal => s !== undefined)) : signal;
    if (!processes.workflow) return { ok: false, cancelled: false, output: '', error: 'a github-workflow step needs the deploy job to run it' };
    return runGithubWorkflow(step, vars, processes.workflow, stop);
  }
  if ('canary' in step || 'monitor' in step) {
    if (!processes.watch) return { ok: false, cancelled: false, output: '', error: `a ${'canary' in step ? 'canary' : 'monitor'} step needs the deploy job to run it` };
    const stop = processes.kill ? AbortSignal.any([signal, processes.kill].filter((s): s is AbortSignal => s !== undefined)) : signal;
    // Weight and abort commands run like command steps: argv, process group, the deploy's step environment.
    const run = async (argv: string[], timeoutMs: number): Promise<StepOutcome> => {
      const res = await runCommand(argv, { env: stepEnv(baseEnv, vars, {}), timeoutMs, signal: stop, kill: processes.kill });
      const output = `$ ${argv.map(displayArg).join(' ')}\n${res.output}`;
      if (res.spawnError) return { ok: false, cancelled: false, output, error: `could not start ${argv[0]}: ${res.spawnError}` };
      if (res.cancelled) return { ok: false, cancelled: true, output, error: 'stopped (cancelled)' };
      if (res.timedOut) return { ok: false, cancelled: false, output, error: `timed out after ${Math.round(timeoutMs / 1000)} s` };
      return res.exitCode === 0 ? { ok: true, cancelled: false, output, exitCode: 0 } : { ok: false, cancelled: false, output, exitCode: res.exitCode, error: `exit code ${res.exitCode}` };
    };
    // A setWeight workflow goes through the github-workflow step's machinery, one run per phase: its own
    // correlation id, stored in the watch state (a restart re-attaches), never a run an earlier phase followed.
    const wf = processes.workflow;
    const dispatchWeight: WatchContext['dispatchWeight'] = async (workflow, weight, phaseRun) => {
      if (!wf) return { ok: false, cancelled: false, output: '', error: 'a setWeight workflow needs the deploy job to run it' };
      return runGithubWorkflow({ name: step.name, workflow: workflow.workflow, timeout: workflow.timeout, retrySafe: true }, { ...vars, weight: String(weight) } as DeployVars, {
        github: wf.github,
        stored: phaseRun.stored,
        save: phaseRun.save,
        correlationId: `${wf.correlationId}-w${phaseRun.phase + 1}`,
        claim: async (runId) => !phaseRun.taken.includes(runId) && wf.claim(runId),
      }, stop);
    };
    return runWatch(step, vars, { dispatchWeight, ...processes.watch, run }, stop);
  }
  const spec = { ...step.http, url: renderTemplate(step.http.url, vars), headers: Object.fromEntries(Object.entries(step.http.headers).map(([k, v]) => [k, renderTemplate(v, vars)])) };
  const stop = processes.kill ? AbortSignal.any([signal, processes.kill].filter((s): s is AbortSignal => s !== undefined)) : signal;
  const res = await httpCheck(spec, stop);
  if (res.cancelled) return { ok: false, cancelled: true, output: res.output, error: 'stopped (cancelled)' };
  return { ok: res.ok, cancelled: false, output: res.output, error: res.ok ? undefined : `check failed after ${res.attempts} attempt${res.attempts === 1 ? '' : 's'}` };
}

/** How an argument is shown above a step's output: one line, long inline scripts shortened. */
function displayArg(arg: string): string {
  const flat = arg.replace(/\s*\n\s*/g, ' ').trim();
  const short = flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
  return /[\s'"]/.test(short) ? `'${short.replace(/'/g, "'\\''")}'` : short;
}
