// The pure rules of a metric watch: thresholds of each kind, breach durations, how values are shown.
import { describe, expect, it } from 'vitest';
import { formatValue, judge, trackBreach } from '../../src/canary/evaluate.js';
import { parseConfig, type WatchMetricConfig } from '../../src/core/config.js';

const metric = (m: Partial<WatchMetricConfig>): WatchMetricConfig => ({ name: 'm', query: 'q', for: 0, unit: 'plain', ...m });

describe('judge', () => {
  it('holds absolute, baseline-relative and stable-relative thresholds', () => {
    expect(judge(metric({ max: 0.01 }), { value: 0.011 }).breached).toBe(true);
    expect(judge(metric({ max: 0.01 }), { value: 0.01 }).breached).toBe(false);
    expect(judge(metric({ min: 1 }), { value: 0 }).breached).toBe(true);
    expect(judge(metric({ maxIncrease: 0.5 }), { value: 0.16, baseline: 0.1 }).breached).toBe(true);
    expect(judge(metric({ maxIncrease: 0.5 }), { value: 0.14, baseline: 0.1 }).breached).toBe(false);
    expect(judge(metric({ maxAboveStable: 0.001 }), { value: 0.0025, stable: 0.001 }).breached).toBe(true);
    expect(judge(metric({ maxAboveStable: 0.001 }), { value: 0.0015, stable: 0.001 }).breached).toBe(false);
  });
});

describe('trackBreach', () => {
  const m = metric({ max: 1, for: 5_000 });
  it('counts a breach only once it lasted its duration, and a healthy reading clears it', () => {
    expect(trackBreach(m, undefined, true, 1_000)).toEqual({ since: 1_000, sustained: false });
    expect(trackBreach(m, 1_000, true, 5_999)).toEqual({ since: 1_000, sustained: false });
    expect(trackBreach(m, 1_000, true, 6_000)).toEqual({ since: 1_000, sustained: true });
    expect(trackBreach(m, 1_000, false, 6_000)).toEqual({ since: undefined, sustained: false });
  });
});

describe('formatValue', () => {
  it('shows percent and milliseconds', () => {
    expect(formatValue({ unit: 'percent' }, 0.012)).toBe('1.2 %');
    expect(formatValue({ unit: 'ms' }, 0.35)).toBe('350 ms');
  });
});

describe('config', () => {
  const base = (metrics: string) => `
environments:
  - name: prod
    steps:
      - name: Canary
        canary:
          prometheus: http://prom:9090
          setWeight: { run: [echo, '{{weight}}'] }
          phases: [{ weight: 5, hold: 30m }, { weight: 100 }]
          metrics: [${metrics}]`;
  it('takes durations and defaults, and refuses a metric with no or two thresholds', () => {
    const c = parseConfig(base(`{ name: e, query: 'x{track="{{track}}"}', max: 0.01, for: 5m }`));
    const step = c.environments[0]?.steps[0];
    expect(step && 'canary' in step && step.canary.metrics[0]?.for).toBe(300_000);
    expect(step && 'canary' in step && step.canary.interval).toBe(30_000);
    expect(step?.retrySafe).toBe(true);
    expect(() => parseConfig(base(`{ name: e, query: x }`))).toThrow(/exactly one threshold/);
    expect(() => parseConfig(base(`{ name: e, query: x, max: 1, min: 0 }`))).toThrow(/exactly one threshold/);
    expect(() => parseConfig(base(`{ name: e, query: 'x{a="{{nope}}"}', max: 1 }`))).toThrow(/nope/);
  });
});
