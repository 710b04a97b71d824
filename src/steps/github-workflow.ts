// The github-workflow step: dispatches a GitHub Actions workflow, finds the run it started (a dispatch answers
// without a run id), follows it to its conclusion with backoff, and on failure shows the failed job and its log
// tail. The dispatch time is stored before dispatching and the run id once found, so a restarted worker
// re-attaches to the run instead of dispatching again.
import type { GithubWorkflowStepConfig } from '../core/config.js';
import { renderTemplate, type DeployVars } from '../core/template.js';
import { describeGithubError, GITHUB_OFF, type GithubClient } from '../github/client.js';
import type { StepOutcome } from './run-step.js';

export interface WorkflowRunRef {
  dispatchedAt: number;
  runId?: number;
  url?: string;
}

export interface WorkflowContext {
  github?: GithubClient;
  /** What an earlier run of this step stored (a restart re-attaches to it). */
  stored?: WorkflowRunRef;
  /** Stores the run reference; a fenced write, so a run that lost the deploy cannot dispatch. */
  save(ref: WorkflowRunRef): Promise<void>;
  /** Unique to this step of this deploy: the value of `correlationInput`. */
  correlationId: string;
  /** Takes a run for this step (true), or says another step took it already (false): two dispatches close together never follow one run. */
  claim(runId: number): Promise<boolean>;
}

/** GitHub's clock and ours differ a little: a run created this long "before" the dispatch still counts. */
const CLOCK_SKEW_MS = 10_000;
/** How long a dispatched run may take to show up in the runs list. */
const FIND_WITHIN_MS = 120_000;
/** A followed run survives this many GitHub errors in a row (each already retried by Octokit). */
const MAX_ERRORS_IN_A_ROW = 5;
const LOG_TAIL_LINES = 30;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (signal?.aborted) return ok();
    const t = setTimeout(ok, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), ok()), { once: true });
  });
}

export async function runGithubWorkflow(step: GithubWorkflowStepConfig, vars: DeployVars, ctx: WorkflowContext, signal?: AbortSignal): Promise<StepOutcome> {
  const { github } = ctx;
  if (!github) return { ok: false, cancelled: false, output: '', error: GITHUB_OFF };
  const { octokit, owner, repo } = github;
  const file = step.workflow.file;
  const ref = renderTemplate(step.workflow.ref, vars);
  const lines: string[] = [];
  const out = (error?: string, ok = false, cancelled = false): StepOutcome => ({ ok, cancelled, output: lines.join('\n'), error });
  const deadline = Date.now() + step.timeout;
  let stored = ctx.stored;
  // A refused save (the run lost the deploy) must reach the deploy job as it is, not as a GitHub error.
  class SaveFailed extends Error {}
  const save = (ref: WorkflowRunRef) => ctx.save(ref).catch((err: unknown) => { throw new SaveFailed('save', { cause: err }); });

  try {
    if (!stored) {
      const inputs = Object.fromEntries(Object.entries(step.workflow.inputs).map(([k, v]) => [k, renderTemplate(v, vars)]));
      if (step.workflow.correlationInput) inputs[step.workflow.correlationInput] = ctx.correlationId;
      stored = { dispatchedAt: Date.now() };
      await save(stored); // before the dispatch: whatever happens next, this step never dispatches again
      await octokit.actions.createWorkflowDispatch({ owner, repo, workflow_id: file, ref, inputs });
      lines.push(`dispatched ${file} on ${ref}`);
    } else {
      lines.push(stored.runId ? `re-attached to run ${stored.runId} after a restart` : `${file} was dispatched before a restart: looking for its run`);
    }

    if (!stored.runId) {
      const since = stored.dispatchedAt - CLOCK_SKEW_MS;
      let delay = github.pollMs.min;
      for (;;) {
        if (signal?.aborted) return out('stopped (cancelled)', false, true);
        const { data } = await octokit.actions.listWorkflowRuns({ owner, repo, workflow_id: file, event: 'workflow_dispatch', created: `>=${new Date(since).toISOString()}`, per_page: 50 });
        const mine = data.workflow_runs
          .filter((r) => Date.parse(r.created_at) >= since && (!/^[0-9a-f]{40}$/.test(ref) ? r.head_branch === ref : r.head_sha === ref))
          .filter((r) => !step.workflow.correlationInput || (r.display_title ?? r.name ?? '').includes(ctx.correlationId))
          .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
        let found: (typeof mine)[number] | undefined;
        for (const r of mine) if (!found && (await ctx.claim(r.id))) found = r;
        if (found) {
          stored = { ...stored, runId: found.id, url: found.html_url };
          await save(stored);
          break;
        }
        if (Date.now() - stored.dispatchedAt > FIND_WITHIN_MS) return out(`${file} was dispatched, but no run of it appeared on ${ref} within ${FIND_WITHIN_MS / 1000} s`);
        await sleep(delay, signal);
        delay = Math.min(delay * 1.5, github.pollMs.max);
      }
    }
    const runId = stored.runId as number;
    lines.push(`workflow run: ${stored.url ?? runId}`);

    let delay = github.pollMs.min;
    let errors = 0;
    for (;;) {
      if (signal?.aborted) return out('stopped (cancelled); the workflow run itself goes on', false, true);
      let run;
      try {
        run = (await octokit.actions.getWorkflowRun({ owner, repo, run_id: runId })).data;
        errors = 0;
      } catch (err) {
        if (++errors >= MAX_ERRORS_IN_A_ROW) throw err;
        lines.push(`following the run: ${describeGithubError(err)} (trying again)`);
        await sleep(delay, signal);
        continue;
      }
      if (run.status === 'completed') {
        lines.push(`run ${runId} ${run.conclusion ?? 'ended'}: ${run.html_url}`);
        if (run.conclusion === 'success') return out(undefined, true);
        const failed = await failedJob(github, runId);
        if (failed) lines.push(`failed job: ${failed.name} (${failed.url})`, ...(failed.log ? [`--- last lines of its log ---`, failed.log] : []));
        return out(`workflow run ${run.conclusion ?? 'failed'}${failed ? `: job “${failed.name}” failed` : ''} (${run.html_url})`);
      }
      if (Date.now() > deadline) return out(`the workflow run did not finish within ${Math.round(step.timeout / 1000)} s (${run.html_url})`);
      await sleep(delay, signal);
      delay = Math.min(delay * 1.5, github.pollMs.max);
    }
  } catch (err) {
    if (err instanceof SaveFailed) throw err.cause;
    return out(describeGithubError(err));
  }
}

/** The first failed job of a run, with the tail of its log (best effort: a log GitHub will not give is left out). */
async function failedJob(github: GithubClient, runId: number): Promise<{ name: string; url: string; log: string } | undefined> {
  const { octokit, owner, repo } = github;
  const { data } = await octokit.actions.listJobsForWorkflowRun({ owner, repo, run_id: runId, filter: 'latest' });
  const job = data.jobs.find((j) => j.conclusion === 'failure' || j.conclusion === 'timed_out') ?? data.jobs.find((j) => j.conclusion && j.conclusion !== 'success' && j.conclusion !== 'skipped');
  if (!job) return undefined;
  let log: string;
  try {
    const res = await octokit.actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: job.id });
    log = String(res.data).trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    log = '(the log could not be fetched)';
  }
  return { name: job.name, url: job.html_url ?? '', log };
}
