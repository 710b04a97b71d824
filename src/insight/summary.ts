// The DORA numbers in words for Slack and App Home: each metric's value, band and trend against the period before.
import type { StatsRow } from '../../blocks/insight.js';
import { plural } from '../../blocks/format.js';
import { DEFINITIONS, band, trend, type Dora, type Metric, type Stats } from './dora.js';

const HOUR = 3_600_000;

/** A span as people read it: "25 min", "3.5 h", "2.1 days". */
export function span(ms: number): string {
  if (ms < HOUR) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 48 * HOUR) return `${(Math.round((ms / HOUR) * 10) / 10).toString()} h`;
  return `${(Math.round((ms / (24 * HOUR)) * 10) / 10).toString()} days`;
}

/** The metric's number in words. */
export function metricText(metric: Metric, d: Dora): string {
  switch (metric) {
    case 'frequency':
      return `${plural(d.deploys, 'deploy')} (${(Math.round(d.perWeek * 10) / 10).toString()} a week)`;
    case 'leadTime':
      return d.leadTime.median === undefined ? 'no commit times yet' : `median ${span(d.leadTime.median)}, p90 ${span(d.leadTime.p90 ?? d.leadTime.median)} (${plural(d.leadTime.count, 'deploy')})`;
    case 'changeFailure':
      return d.changeFailure.rate === undefined ? 'no changes' : `${Math.round(d.changeFailure.rate * 1000) / 10} % (${d.changeFailure.failed} of ${d.changeFailure.total})`;
    case 'restore': {
      const open = d.restore.open ? `; ${plural(d.restore.open, 'failure')} not restored yet` : '';
      return d.restore.median === undefined ? `nothing restored${open || ' (no failures)'}` : `median ${span(d.restore.median)} (${plural(d.restore.restored, 'failure')} restored${open})`;
    }
  }
}

function trendText(metric: Metric, s: Stats): string {
  const t = trend(metric, s.current, s.previous);
  if (!t) return 'no earlier number to compare';
  if (t.better === undefined) return '→ same as the period before';
  const size = metric === 'frequency' ? `${(Math.round(Math.abs(t.delta) * 10) / 10).toString()} a week` : metric === 'changeFailure' ? `${Math.round(Math.abs(t.delta) * 1000) / 10} points` : span(Math.abs(t.delta));
  return `${t.delta > 0 ? '↑' : '↓'} ${size} ${t.better ? 'better' : 'worse'} than the period before`;
}

const TITLES: Record<Metric, string> = { frequency: 'Deployment frequency', leadTime: 'Lead time for changes', changeFailure: 'Change failure rate', restore: 'Time to restore' };
export const METRICS: Metric[] = ['frequency', 'leadTime', 'changeFailure', 'restore'];

export function periodLabel(periodMs: number): string {
  return `last ${Math.round(periodMs / (24 * HOUR))} days`;
}

/** Rows for blocks/insight.ts's statsBlocks, and the definitions shown under them. */
export function statsRows(s: Stats): StatsRow[] {
  return METRICS.map((m) => ({ title: TITLES[m], value: metricText(m, s.current), trend: trendText(m, s), ...(band(m, s.current) ? { band: band(m, s.current) } : {}) }));
}

export function definitions(): string[] {
  return [...METRICS.map((m) => DEFINITIONS[m]), 'Bands: DORA 2023 report levels. Computed from the stored deployment log.'];
}
