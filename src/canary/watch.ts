// The canary / monitor state machine. Each pass: take up a person's click, measure the baseline (once),
// put the phase's weight in place, evaluate every metric against its threshold, roll back on a breach
// that lasted its `for`, otherwise promote once the hold is over. Every change is saved in the deploy
// record before the next wait. Run by the deploy job, the watch parks for each wait (the step returns `park`:
// the job gives its worker back and wakes as a delayed job, jobs/deploy.ts), so an hour-long hold holds no
// worker; a click or a cancel wakes it at once. Without parking, waits are short slices noticing a click.
import type { CanaryStepConfig, MonitorStepConfig, WatchMetricConfig, WeightWorkflowConfig } from '../core/config.js';
import { renderTemplate, type DeployVars } from '../core/template.js';
import type { StepOutcome } from '../steps/run-step.js';
import { formatValue, judge, needsBaseline, needsStable, trackBreach } from './evaluate.js';
import { graphUrl, queryPrometheus, type QueryResult } from './prometheus.js';
import { rollBack, type RollbackJobRequester } from './rollback-hook.js';
import type { MetricStatus, WatchRequest, WatchState } from './watch-state.js';

export interface WatchContext {
  /** The state saved by an earlier run of this step (a resumed deploy), if any. */
  stored?: WatchState;
  /** The click waiting to be taken up, read from the record. */
  request(): Promise<WatchRequest | undefined>;
  /** Saves the state (a write fenced by the run); clears the request when it is the one handled. */
  save(state: WatchState, handled?: WatchRequest): Promise<void>;
  /** Adds a line to the deploy's notes (shown on the status message and in the log entry). */
  note(text: string): Promise<void>;
  /** Asks the status message to show the new state (the messenger paces its edits). */
  changed(): Promise<void>;
  /** Runs an argv like a command step (process group, timeout, masked later). */
  run(argv: string[], timeoutMs: number): Promise<StepOutcome>;
  now(): number;
  /** True once the worker is shutting down: the watch saves its state and hands the deploy back (handBack). */
  shuttingDown?: () => boolean;
  /** The deploy job can park the watch: a wait ends the step with `park` instead of sleeping in the worker. */
  parking?: boolean;
  /** This run is the parked watch woken up (not a restart): it goes on quietly from the stored state. */
  woken?: boolean;
  /** Dispatches a setWeight workflow and follows its run (the github-workflow step's machinery, run-step.ts). */
  dispatchWeight?(workflow: WeightWorkflowConfig, weight: number, run: WeightRunControl): Promise<StepOutcome>;
  /** Asks the people who decide, in the deploy's thread, with Resume / Abort: one message per pause (keyed by its `at`). */
  ask?(pause: { reason: string; at: number; where: string }): Promise<void>;
  /** Queues the environment's rollback job (onBreach: rollback); one per deploy step however often it is called. */
  requestRollback?: RollbackJobRequester;
}

/** One phase's setWeight workflow run: what an earlier run of this step stored, and where to store it. */
export interface WeightRunControl {
  phase: number;
  stored?: { dispatchedAt: number; runId?: number; url?: string };
  save(ref: { dispatchedAt: number; runId?: number; url?: string }): Promise<void>;
  /** Runs earlier phases followed: never this phase's. */
  taken: readonly number[];
}

/** How often a wait looks at the record for a click; cancellation (AbortSignal) ends a wait at once. */
const POLL_MS = 250;
/** A wait shorter than this is slept through (parking costs a job round trip); longer ones park. */
const PARK_MIN_MS = 150;
/** The step's output so far, kept with the state across parks (its tail: the state is written at every pass). */
const LOG_KEEP = 6_000;
const HISTORY = 20;

type WatchStep = CanaryStepConfig | MonitorStepConfig;

export async function runWatch(step: WatchStep, vars: DeployVars, ctx: WatchContext, signal?: AbortSignal): Promise<StepOutcome> {
  const isCanary = 'canary' in step;
  const spec = isCanary ? step.canary : step.monitor;
  const phases: Array<{ weight?: number; hold?: number }> = isCanary ? step.canary.phases : [{ hold: step.monitor.duration }];
  const render = (text: string, extra: Record<string, string>) => renderTemplate(text, { ...vars, ...extra } as DeployVars);
  let st: WatchState = ctx.stored ?? { kind: isCanary ? 'canary' : 'monitor', startedAt: ctx.now(), phase: 0, breachSince: {}, latest: {} };
  let out = (ctx.stored?.log ?? '') + (ctx.stored && !ctx.woken ? `resumed at phase ${st.phase + 1} of ${phases.length}\n` : '');
  const log = (line: string) => (out += `[${new Date(ctx.now()).toISOString()}] ${line}\n`);
  const where = () => (isCanary ? `phase ${st.phase + 1} (${phases[st.phase]?.weight ?? 100} %)` : 'the monitor');
  const cancelled = (): StepOutcome => ({ ok: false, cancelled: true, output: out, error: 'stopped (cancelled)' });

  /**
   * Takes the new version out (the one rollback hook) and ends the step as failed-and-rolled-back. A sustained
   * breach with `onBreach: rollback` also queues the environment's rollback job; a resumed run that finds the
   * breach already decided (`resumed`) only asks for that job again (deduplicated), never runs the abort twice.
   */
  async function takeOut(reason: string, ended: 'rolled-back' | 'aborted' | 'failed', extra: Partial<NonNullable<WatchState['rollback']>> = {}, handled?: WatchRequest, resumed = false): Promise<StepOutcome> {
    const toJob = ended === 'rolled-back' && spec.onBreach === 'rollback';
    if (!resumed) {
      log(`rolling back at ${where()}: ${reason}`);
      st = { ...st, ended, rollback: { reason, at: ctx.now(), phase: st.phase, ...extra } };
      await ctx.save(st, handled);
    }
    const unavailable: RollbackJobRequester = async () => ({ ok: false, error: 'the rollback job is not available here' });
    const res = await rollBack({
      reason,
      abortArgv: resumed ? undefined : spec.abort?.run.map((a) => render(a, { weight: '0' })),
      abortTimeoutMs: spec.abort?.timeout ?? 600_000,
      run: ctx.run,
      ...(toJob ? { requestRollback: ctx.requestRollback ?? unavailable } : {}),
    });
    out += res.output;
    if (res.job && st.rollback) {
      st = { ...st, rollback: { ...st.rollback, job: res.job } };
      await ctx.save(st);
    }
    // Without an abort command (or a rollback job) nothing is taken out: the deploy fails and says so (a monitor "failing as configured").
    const takes = spec.abort !== undefined || toJob;
    const verb = ended === 'aborted' ? 'Aborted' : takes ? 'Rolled back automatically' : 'Failed (nothing rolled back)';
    if (!resumed) await ctx.note(`${verb} at ${where()}: ${reason}${extra.link ? ` (<${extra.link}|query>)` : ''}; ${res.said}.`);
    return { ok: false, cancelled: false, output: out, error: `${ended === 'aborted' ? 'aborted' : takes ? 'rolled back' : 'failed'} at ${where()}: ${reason}${res.ok ? '' : ` — ${res.failure ?? 'the abort command failed'}`}` };
  }

  /** A setWeight workflow for this phase: re-attaches to the run stored by an earlier run of the step, else dispatches. */
  async function weightByWorkflow(sw: WeightWorkflowConfig, weight: number): Promise<StepOutcome> {
    if (!ctx.dispatchWeight) return { ok: false, cancelled: false, output: '', error: 'a setWeight workflow needs the deploy job to run it' };
    const phaseNo = st.phase;
    const stored = st.weightRun?.phase === phaseNo ? st.weightRun : undefined;
    const res = await ctx.dispatchWeight(sw, weight, {
      phase: phaseNo,
      ...(stored ? { stored: { dispatchedAt: stored.dispatchedAt, ...(stored.runId !== undefined ? { runId: stored.runId, url: stored.url } : {}) } } : {}),
      save: async (ref) => {
        st = { ...st, weightRun: { phase: phaseNo, ...ref } };
        await ctx.save(st);
      },
      taken: st.weightRuns ?? [],
    });
    const runId = st.weightRun?.runId;
    if (runId !== undefined) st = { ...st, weightRun: undefined, weightRuns: [...(st.weightRuns ?? []), runId] };
    return res;
  }

  async function query(m: WatchMetricConfig, track: 'canary' | 'stable'): Promise<QueryResult> {
    return queryPrometheus(spec.prometheus, render(m.query, { track }), { signal, timeoutMs: Math.min(10_000, Math.max(1_000, spec.interval)) });
  }

  const problemOf = (r: QueryResult) => (r.kind === 'unreachable' ? `Prometheus unreachable (${r.error})` : 'the query returned no data');

  async function pause(reason: string, by?: string): Promise<void> {
    if (st.paused) return;
    st = { ...st, paused: { reason, at: ctx.now(), ...(by ? { by } : {}) } };
    log(`paused: ${reason}`);
    await ctx.note(by ? `Canary paused by <@${by}> at ${where()}.` : `${isCanary ? 'Canary' : 'Monitor'} paused at ${where()}: ${reason}. It never promotes on missing data: a person decides (Resume or Abort).`);
    if (by) return;
    // Saved before asking, so a run that dies in between asks again under the same key (one message) on resume.
    await ctx.save(st);
    await askAbout(st.paused);
  }

  /** Asks the people who decide about an inconclusive pause; keyed by the pause, so asking again posts nothing new. */
  async function askAbout(p: WatchState['paused']): Promise<void> {
    if (!p || p.by || !ctx.ask) return;
    try {
      await ctx.ask({ reason: p.reason, at: p.at, where: where() });
    } catch (err) {
      log(`could not ask about the pause: ${(err as Error).message}`);
    }
  }

  // A run resumed after a crash: a breach already decided goes to its rollback job (asked for again, deduplicated);
  // a pause is asked about again under the same key (nothing new if the question went out).
  if (ctx.stored?.ended === 'rolled-back' && ctx.stored.rollback && spec.onBreach === 'rollback') return takeOut(ctx.stored.rollback.reason, 'rolled-back', {}, undefined, true);
  // Any other end already decided: never watch again, and never run the abort command a second time (a second
  // `kubectl rollout undo` would put the new version back). Whether the first one finished is not known: say so.
  if (ctx.stored?.ended === 'promoted') return { ok: true, cancelled: false, output: `${out}the watch had ended promoted before the worker stopped\n` };
  if (ctx.stored?.ended) {
    const reason = ctx.stored.rollback?.reason ?? 'ended before the worker stopped';
    const said = spec.abort ? 'the worker stopped while taking the new version out, so the abort command was not run again: check the environment' : 'nothing was rolled back';
    log(`resumed after the watch had ended (${ctx.stored.ended}): ${said}`);
    await ctx.note(`${isCanary ? 'Canary' : 'Monitor'} had ended (${ctx.stored.ended}) at ${where()}: ${reason}; ${said}.`);
    return { ok: false, cancelled: false, output: out, error: `${ctx.stored.ended} at ${where()}: ${reason} — ${said}` };
  }
  await askAbout(ctx.stored?.paused);

  while (true) {
    if (signal?.aborted) return cancelled();
    if (ctx.shuttingDown?.()) {
      await ctx.save(st);
      return { ok: false, cancelled: false, handBack: true, output: out, error: 'handed back on shutdown' };
    }
    // 1. A person's click.
    const req = await ctx.request();
    if (req) {
      log(`${req.action} by ${req.by}`);
      if (req.action === 'abort') return takeOut(`aborted by <@${req.by}>`, 'aborted', {}, req);
      if (req.action === 'pause') await pause('paused by a person', req.by);
      if (req.action === 'resume' && st.paused) {
        // The hold does not run while paused: it goes on from where it stood.
        const pausedFor = ctx.now() - st.paused.at;
        st = { ...st, paused: undefined, phaseStartedAt: st.phaseStartedAt !== undefined ? st.phaseStartedAt + pausedFor : undefined, breachSince: {} };
        await ctx.note(`Resumed by <@${req.by}> at ${where()}.`);
      }
      if (req.action === 'promote') {
        st = { ...st, paused: undefined, phase: st.phase + 1, phaseStartedAt: undefined, breachSince: {} };
        await ctx.note(`Promoted by <@${req.by}> to ${st.phase < phases.length ? where() : 'the end'}.`);
      }
      await ctx.save(st, req);
      await ctx.changed();
      continue;
    }
    if (st.phase >= phases.length) break;

    // 2. The baseline, before any traffic moves.
    if (!st.paused && !st.baseline && spec.metrics.some(needsBaseline)) {
      const baseline: Record<string, number> = {};
      for (const m of spec.metrics.filter(needsBaseline)) {
        const r = await query(m, 'stable');
        if (r.kind !== 'value') {
          await pause(`baseline of ${m.name}: ${problemOf(r)}`);
          break;
        }
        baseline[m.name] = r.value;
      }
      if (!st.paused) {
        st = { ...st, baseline };
        log(`baseline: ${Object.entries(baseline).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      }
    }

    // 3. The phase's weight.
    const phase = phases[st.phase] ?? {};
    if (!st.paused && st.weightSetFor !== st.phase && (!spec.metrics.some(needsBaseline) || st.baseline)) {
      if (isCanary && phase.weight !== undefined) {
        log(`setting weight ${phase.weight} %`);
        const sw = step.canary.setWeight;
        const res = 'run' in sw ? await ctx.run(sw.run.map((a) => render(a, { weight: String(phase.weight) })), sw.timeout) : await weightByWorkflow(sw, phase.weight);
        out += res.output;
        if (res.cancelled || signal?.aborted) return cancelled();
        if (!res.ok) return takeOut(`setting the weight to ${phase.weight} % failed (${res.error ?? 'unknown'})`, 'failed');
      }
      st = { ...st, weightSetFor: st.phase, phaseStartedAt: ctx.now() };
      await ctx.save(st);
      await ctx.changed();
    }

    // 4. Evaluate every metric.
    const at = ctx.now();
    const problems: string[] = [];
    const sustained: Array<{ m: WatchMetricConfig; status: MetricStatus; since: number }> = [];
    if (st.weightSetFor === st.phase) {
      const latest = { ...st.latest };
      const breachSince = { ...st.breachSince };
      for (const m of spec.metrics) {
        const r = await query(m, 'canary');
        const s = needsStable(m) ? await query(m, 'stable') : undefined;
        const prev = latest[m.name];
        if (r.kind !== 'value' || (s && s.kind !== 'value')) {
          const problem = problemOf(r.kind !== 'value' ? r : (s as QueryResult));
          problems.push(`${m.name}: ${problem}`);
          latest[m.name] = { rule: prev?.rule ?? '', breached: false, history: prev?.history ?? [], at, problem };
          continue;
        }
        const v = judge(m, { value: r.value, ...(s?.kind === 'value' ? { stable: s.value } : {}), ...(st.baseline?.[m.name] !== undefined ? { baseline: st.baseline[m.name] } : {}) });
        const b = trackBreach(m, breachSince[m.name], v.breached, at);
        if (b.since === undefined) delete breachSince[m.name];
        else breachSince[m.name] = b.since;
        const status: MetricStatus = { value: r.value, ...(s?.kind === 'value' ? { stable: s.value } : {}), rule: v.rule, breached: v.breached, history: [...(prev?.history ?? []), r.value].slice(-HISTORY), at };
        latest[m.name] = status;
        if (b.sustained && b.since !== undefined) sustained.push({ m, status, since: b.since });
      }
      st = { ...st, latest, breachSince };
    }
    if (signal?.aborted) return cancelled();
    const first = sustained[0];
    if (first) {
      const { m, status, since } = first;
      const reason = `${m.name} = ${formatValue(m, status.value ?? 0)}${status.stable !== undefined ? ` (stable ${formatValue(m, status.stable)})` : ''}, limit ${status.rule}, breached for ${((at - since) / 1000).toFixed(1)} s (allowed ${m.for / 1000} s)`;
      return takeOut(reason, 'rolled-back', { breachSince: since, link: graphUrl(spec.prometheus, render(m.query, { track: 'canary' }), Math.max(at - st.startedAt, 60_000)) });
    }
    if (problems.length > 0 && !st.paused) {
      if (spec.onInconclusive === 'fail') return takeOut(`inconclusive: ${problems.join('; ')}`, 'failed');
      await pause(`inconclusive: ${problems.join('; ')}`);
    }

    // 5. Promote once the hold is over: never while paused, on an inconclusive pass, or while a metric breaches
    //    (a breach that began goes on counting into the next phase only if it could roll back there: it waits here).
    const holdEnd = (st.phaseStartedAt ?? at) + (phase.hold ?? 0);
    const breaching = Object.keys(st.breachSince).length > 0;
    if (!st.paused && problems.length === 0 && !breaching && st.weightSetFor === st.phase && ctx.now() >= holdEnd) {
      st = { ...st, phase: st.phase + 1, phaseStartedAt: undefined };
      log(st.phase < phases.length ? `promoted to ${where()}` : 'all phases passed');
      await ctx.save(st);
      await ctx.changed();
      continue;
    }
    await ctx.save(st);
    await ctx.changed();

    // 6. Wait for the next evaluation (or the end of the hold): parked (the worker is given back; the state with the
    //    output so far is saved and the deploy job wakes the step at `until`, or at a click), else in short slices.
    const until = Math.min(at + spec.interval, st.paused || breaching ? Infinity : holdEnd);
    if (ctx.parking && until - ctx.now() >= PARK_MIN_MS && !signal?.aborted) {
      await ctx.save({ ...st, log: out.slice(-LOG_KEEP) });
      return { ok: false, cancelled: false, park: { until }, output: out, error: 'parked until the next evaluation' };
    }
    while (ctx.now() < until) {
      if (signal?.aborted) return cancelled();
      if (ctx.shuttingDown?.()) break;
      await sleep(Math.min(POLL_MS, until - ctx.now()), signal);
      if (await ctx.request()) break;
    }
  }
  st = { ...st, ended: 'promoted' };
  await ctx.save(st);
  log(isCanary ? 'canary promoted through every phase' : 'monitor ended healthy');
  return { ok: true, cancelled: false, output: out };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
