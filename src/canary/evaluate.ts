// Pure rules of a metric watch: is one reading a breach, has a breach lasted long enough to count,
// and how a value and its threshold are shown. No I/O here, so every rule is tested directly.
import type { WatchMetricConfig } from '../core/config.js';

export interface Reading {
  /** The canary's (or, for a monitor, the service's) value. */
  value: number;
  /** The stable version's value at the same moment (maxAboveStable only). */
  stable?: number;
  /** The value measured before the deploy (maxIncrease only). */
  baseline?: number;
}

export interface Verdict {
  breached: boolean;
  /** The limit the value was held against, in the metric's own unit. */
  limit: number;
  /** e.g. "> 1 %", "> 50 % over baseline 120 ms". */
  rule: string;
}

export function needsBaseline(m: WatchMetricConfig): boolean {
  return m.maxIncrease !== undefined;
}

export function needsStable(m: WatchMetricConfig): boolean {
  return m.maxAboveStable !== undefined;
}

/** Judges one reading against the metric's threshold. */
export function judge(m: WatchMetricConfig, r: Reading): Verdict {
  const show = (v: number) => formatValue(m, v);
  if (m.max !== undefined) return { breached: r.value > m.max, limit: m.max, rule: `≤ ${show(m.max)}` };
  if (m.min !== undefined) return { breached: r.value < m.min, limit: m.min, rule: `≥ ${show(m.min)}` };
  if (m.maxIncrease !== undefined) {
    const base = r.baseline ?? 0;
    const limit = base * (1 + m.maxIncrease);
    return { breached: r.value > limit, limit, rule: `≤ ${show(limit)} (baseline ${show(base)} + ${round(m.maxIncrease * 100)} %)` };
  }
  const stable = r.stable ?? 0;
  const limit = stable + (m.maxAboveStable ?? 0);
  return { breached: r.value > limit, limit, rule: `≤ ${show(limit)} (stable ${show(stable)} + ${formatValue(m, m.maxAboveStable ?? 0)})` };
}

/**
 * Tracks when a breach started: kept while it goes on, cleared by a healthy reading. The breach counts (sustained)
 * once it has lasted the metric's `for`: a spike shorter than that clears before it counts.
 */
export function trackBreach(m: WatchMetricConfig, since: number | undefined, breached: boolean, now: number): { since: number | undefined; sustained: boolean } {
  if (!breached) return { since: undefined, sustained: false };
  const start = since ?? now;
  return { since: start, sustained: now - start >= m.for };
}

export function formatValue(m: Pick<WatchMetricConfig, 'unit'>, v: number): string {
  if (m.unit === 'percent') return `${round(v * 100)} %`;
  if (m.unit === 'ms') return `${round(v * 1000)} ms`;
  return String(round(v));
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3));
}



/** A text sparkline of the latest readings (Slack shows no charts inline; this fits in a line). */
