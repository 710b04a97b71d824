// What a canary or monitor step keeps in its deploy record (StepState.watch), so a worker that restarts
// mid-hold resumes the watch where it stood: phase, when the hold began, baselines, breach starts, pause.

export interface MetricStatus {
  value?: number;
  stable?: number;
  /** The threshold as shown: "≤ 1 %". */
  rule: string;
  breached: boolean;
  /** Latest readings, oldest first (a sparkline's worth). */
  history: number[];
  at: number;
  /** Why there is no value (no data, unreachable). */
  problem?: string;
}

export interface WatchState {
  kind: 'canary' | 'monitor';
  startedAt: number;
  /** Index into the phases; a monitor has one phase. */
  phase: number;
  /** The phase whose weight is in place (set again only when this differs from `phase`). */
  weightSetFor?: number;
  /** When the current phase's hold began (pauses push it later so a hold never runs while paused). */
  phaseStartedAt?: number;
  /** Values measured before the first phase, for maxIncrease thresholds. */
  baseline?: Record<string, number>;
  /** Per metric: when its current breach began. */
  breachSince: Record<string, number>;
  latest: Record<string, MetricStatus>;
  paused?: { reason: string; by?: string; at: number };
  ended?: 'promoted' | 'rolled-back' | 'aborted' | 'failed';
  /** The tail of the step's output so far, carried across parks (the step posts it whole when it ends). */
  log?: string;
  /** Why and when it rolled back; `breachSince` is when the breach was first seen; `job` the rollback record queued (onBreach: rollback). */
  rollback?: { reason: string; at: number; phase: number; breachSince?: number; link?: string; job?: string };
  /** A setWeight workflow of the current phase: its run, stored before the dispatch so a restart re-attaches instead of dispatching again. */
  weightRun?: { phase: number; dispatchedAt: number; runId?: number; url?: string };
  /** Runs earlier phases' setWeight workflows followed: a later phase never takes one of them for its own. */
  weightRuns?: number[];
}

export type WatchAction = 'promote' | 'pause' | 'resume' | 'abort';

/** A person's click, written to the record (StepState.watchRequest) and taken up by the running watch. */
export interface WatchRequest {
  action: WatchAction;
  by: string;
  at: number;
}
