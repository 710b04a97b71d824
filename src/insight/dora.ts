// The four DORA numbers of one environment, computed from its stored deployment log (never from counters that
// reset): pure functions over log entries, so the same numbers feed `/deploys stats`, the charts, App Home and
// /metrics, and tests can check them on generated histories with known answers.
import type { LogEntry } from '../deploys/deploy-store.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Kinds that put a change into the environment (a rollback puts an old one back; migrations, flags and locks are other timelines). */
const CHANGE_KINDS = new Set(['deploy', 'hotfix']);
const kindOf = (e: LogEntry): string => e.kind ?? 'deploy';
const isChange = (e: LogEntry) => CHANGE_KINDS.has(kindOf(e)) && (e.status === 'succeeded' || e.status === 'failed');
const restores = (e: LogEntry) => e.status === 'succeeded' && (CHANGE_KINDS.has(kindOf(e)) || kindOf(e) === 'rollback');

/** One line each, shown under the numbers. Where Four Keys and we differ, the line says so. */
export const DEFINITIONS = {
  frequency: 'Deployment frequency: successful deploys and hotfixes to the environment, per week (Four Keys counts successful deployments too).',
  leadTime: 'Lead time for changes: from the oldest commit a deploy ships to the deploy finishing, median and p90 over successful deploys (Four Keys takes every commit\'s own time).',
  changeFailure: 'Change failure rate: deploys and hotfixes that failed (e.g. a failed canary) or were followed by a rollback or a hotfix, over all that ran (Four Keys links incidents instead).',
  restore: 'Time to restore: from the failed change to the next successful deploy, hotfix or rollback, median (Four Keys measures incidents; we have no incident times).',
} as const;

export type Metric = keyof typeof DEFINITIONS;
export type Band = 'Elite' | 'High' | 'Medium' | 'Low';

/** What happened to each change: which failed, when, and when the environment was good again. */
export interface Failure {
  entry: LogEntry;
  at: number;
  restoredAt?: number;
}

/**
 * Walks the log in time order. A change that ended failed is a failure; a rollback or hotfix (whatever its outcome)
 * marks the change live before it as failed. Each failure is restored by the first later success that restores.
 */
export function failures(entries: readonly LogEntry[]): Failure[] {
  const sorted = [...entries].sort((a, b) => a.at - b.at);
  const found = new Map<LogEntry, Failure>();
  let live: LogEntry | undefined;
  for (const e of sorted) {
    const kind = kindOf(e);
    if ((kind === 'rollback' || kind === 'hotfix') && (e.status === 'succeeded' || e.status === 'failed') && live && !found.has(live)) {
      found.set(live, { entry: live, at: live.at });
    }
    if (isChange(e)) {
      live = e;
      if (e.status === 'failed') found.set(e, { entry: e, at: e.at });
    } else if (kind === 'rollback' && e.status === 'succeeded') {
      live = undefined; // an older version runs again; a second rollback says nothing new about a change
    }
  }
  const out = [...found.values()].sort((a, b) => a.at - b.at);
  for (const f of out) {
    const fix = sorted.find((e) => e.at > f.at && e !== f.entry && restores(e));
    if (fix) f.restoredAt = fix.at;
  }
  return out;
}

export interface Dora {
  from: number;
  to: number;
  days: number;
  /** Successful deploys and hotfixes. */
  deploys: number;
  perWeek: number;
  leadTime: { median?: number; p90?: number; count: number };
  changeFailure: { failed: number; total: number; rate?: number };
  restore: { median?: number; restored: number; open: number; openSince?: number };
}

/** PERCENTILE_CONT, as Four Keys' queries use: linear between the nearest ranks. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const rank = p * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (rank - lo);
}

/**
 * The numbers for [from, to). `entries` is the environment's whole log up to now: a failure of the period that was
 * restored after it ends keeps its real restore time; one not restored by `to` (when `to` is now) is open.
 */
export function computeDora(entries: readonly LogEntry[], from: number, to: number): Dora {
  const inPeriod = (at: number) => at >= from && at < to;
  const changes = entries.filter((e) => isChange(e) && inPeriod(e.at));
  const succeeded = changes.filter((e) => e.status === 'succeeded');
  const days = (to - from) / DAY;
  const leads = succeeded.filter((e) => e.firstCommitAt !== undefined && e.firstCommitAt <= e.at).map((e) => e.at - (e.firstCommitAt as number));
  const fails = failures(entries).filter((f) => inPeriod(f.at));
  const failedChanges = fails.filter((f) => isChange(f.entry));
  const restored = fails.filter((f) => f.restoredAt !== undefined);
  const open = fails.filter((f) => f.restoredAt === undefined);
  return {
    from, to, days,
    deploys: succeeded.length,
    perWeek: days > 0 ? (succeeded.length / days) * 7 : 0,
    leadTime: { median: percentile(leads, 0.5), p90: percentile(leads, 0.9), count: leads.length },
    changeFailure: { failed: failedChanges.length, total: changes.length, rate: changes.length ? failedChanges.length / changes.length : undefined },
    restore: { median: percentile(restored.map((f) => (f.restoredAt as number) - f.at), 0.5), restored: restored.length, open: open.length, ...(open[0] ? { openSince: open[0].at } : {}) },
  };
}

/**
 * DORA performance levels, with the thresholds of the 2023 State of DevOps report (on demand / daily–weekly /
 * weekly–monthly; under a day / a week / a month; 5 % / 10 % / 15 %; under an hour / a day / a week).
 */
export function band(metric: Metric, d: Dora): Band | undefined {
  switch (metric) {
    case 'frequency': {
      const perDay = d.perWeek / 7;
      return perDay >= 1 ? 'Elite' : perDay >= 1 / 7 ? 'High' : perDay >= 1 / 30 ? 'Medium' : 'Low';
    }
    case 'leadTime':
      return d.leadTime.median === undefined ? undefined : d.leadTime.median < DAY ? 'Elite' : d.leadTime.median < 7 * DAY ? 'High' : d.leadTime.median < 30 * DAY ? 'Medium' : 'Low';
    case 'changeFailure':
      return d.changeFailure.rate === undefined ? undefined : d.changeFailure.rate <= 0.05 ? 'Elite' : d.changeFailure.rate <= 0.1 ? 'High' : d.changeFailure.rate <= 0.15 ? 'Medium' : 'Low';
    case 'restore':
      return d.restore.median === undefined ? undefined : d.restore.median < HOUR ? 'Elite' : d.restore.median < DAY ? 'High' : d.restore.median < 7 * DAY ? 'Medium' : 'Low';
  }
}

/** The metric's headline value (undefined: nothing to measure), and whether more is better. */
export function value(metric: Metric, d: Dora): number | undefined {
  return { frequency: d.perWeek, leadTime: d.leadTime.median, changeFailure: d.changeFailure.rate, restore: d.restore.median }[metric];
}

export interface Trend {
  delta: number;
  /** true: better than the previous period; false: worse; undefined: the same, or nothing to compare. */
  better?: boolean;
}

export function trend(metric: Metric, now: Dora, before: Dora): Trend | undefined {
  const a = value(metric, now);
  const b = value(metric, before);
  if (a === undefined || b === undefined) return undefined;
  const delta = a - b;
  if (delta === 0) return { delta };
  return { delta, better: metric === 'frequency' ? delta > 0 : delta < 0 };
}

export interface Stats {
  env: string;
  current: Dora;
  previous: Dora;
}

/** The period ending at `now` and the one before it, of equal length. */
export function stats(env: string, entries: readonly LogEntry[], now: number, periodMs: number): Stats {
  return { env, current: computeDora(entries, now - periodMs, now), previous: computeDora(entries, now - 2 * periodMs, now - periodMs) };
}

/** Per-day and per-week series for the charts. */
export interface Series {
  days: Array<{ day: number; ok: number; failed: number; rollbacks: number }>;
  weeks: Array<{ week: number; leadMedianH?: number; failureRate?: number }>;
}

export function series(entries: readonly LogEntry[], from: number, to: number): Series {
  const startDay = Math.floor(from / DAY) * DAY;
  const failedSet = new Set(failures(entries).map((f) => f.entry));
  const days: Series['days'] = [];
  for (let day = startDay; day < to; day += DAY) days.push({ day, ok: 0, failed: 0, rollbacks: 0 });
  const weeks: Series['weeks'] = [];
  for (let week = startDay; week < to; week += 7 * DAY) {
    const d = computeDora(entries, week, Math.min(week + 7 * DAY, to));
    weeks.push({ week, ...(d.leadTime.median !== undefined ? { leadMedianH: d.leadTime.median / HOUR } : {}), ...(d.changeFailure.rate !== undefined ? { failureRate: d.changeFailure.rate } : {}) });
  }
  for (const e of entries) {
    if (e.at < from || e.at >= to) continue;
    const slot = days[Math.floor((e.at - startDay) / DAY)];
    if (!slot) continue;
    if (kindOf(e) === 'rollback' && (e.status === 'succeeded' || e.status === 'failed')) slot.rollbacks++;
    else if (isChange(e) && failedSet.has(e)) slot.failed++;
    else if (isChange(e)) slot.ok++;
  }
  return { days, weeks };
}
