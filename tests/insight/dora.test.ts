// DORA numbers on generated histories whose answers are known, including the edges the issue names.
import { describe, expect, it } from 'vitest';
import type { LogEntry, LogKind } from '../../src/deploys/deploy-store.js';
import { band, computeDora, failures, percentile, series, stats, trend } from '../../src/insight/dora.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 0, 1);
let n = 0;
function e(at: number, status: LogEntry['status'] = 'succeeded', kind: LogKind = 'deploy', lead?: number): LogEntry {
  n++;
  return { deployId: String(n), env: 'production', version: `v${n}`, ref: `v${n}`, deployedBy: 'U1', status, at, notes: [], kind, ...(lead !== undefined ? { firstCommitAt: at - lead } : {}) };
}

describe('DORA numbers', () => {
  it('no deploys: zero frequency, Low band, nothing else to measure', () => {
    const d = computeDora([], T0, T0 + 30 * D);
    expect(d).toMatchObject({ deploys: 0, perWeek: 0, leadTime: { count: 0 }, changeFailure: { failed: 0, total: 0 }, restore: { restored: 0, open: 0 } });
    expect(d.leadTime.median).toBeUndefined();
    expect(d.changeFailure.rate).toBeUndefined();
    expect(band('frequency', d)).toBe('Low');
    expect(band('leadTime', d)).toBeUndefined();
    expect(band('changeFailure', d)).toBeUndefined();
  });

  it('a steady history: one deploy a day, lead times 1..30 h, every fifth rolled back within 30 minutes', () => {
    const entries: LogEntry[] = [];
    for (let i = 0; i < 30; i++) {
      const at = T0 + i * D + 10 * H;
      entries.push(e(at, 'succeeded', 'deploy', (i + 1) * H));
      if (i % 5 === 4) entries.push(e(at + 30 * 60_000, 'succeeded', 'rollback'));
    }
    const d = computeDora(entries, T0, T0 + 30 * D);
    expect(d.deploys).toBe(30);
    expect(d.perWeek).toBeCloseTo(7);
    expect(d.leadTime.median).toBe(15.5 * H); // PERCENTILE_CONT of 1..30 h
    expect(d.leadTime.p90).toBeCloseTo(27.1 * H);
    expect(d.changeFailure).toEqual({ failed: 6, total: 30, rate: 0.2 });
    expect(d.restore).toMatchObject({ median: 30 * 60_000, restored: 6, open: 0 });
    expect([band('frequency', d), band('leadTime', d), band('changeFailure', d), band('restore', d)]).toEqual(['Elite', 'Elite', 'Low', 'Elite']);
  });

  it('only failures: every change failed, none restored', () => {
    const entries = [e(T0 + D, 'failed'), e(T0 + 2 * D, 'failed'), e(T0 + 3 * D, 'failed')];
    const d = computeDora(entries, T0, T0 + 7 * D);
    expect(d.deploys).toBe(0);
    expect(d.changeFailure).toEqual({ failed: 3, total: 3, rate: 1 });
    expect(d.restore).toMatchObject({ restored: 0, open: 3, openSince: T0 + D });
    expect(d.restore.median).toBeUndefined();
  });

  it('a rollback with no later success: the change counts as failed and stays open', () => {
    const entries = [e(T0 + D), e(T0 + 2 * D), e(T0 + 2 * D + H, 'failed', 'rollback')];
    const d = computeDora(entries, T0, T0 + 7 * D);
    expect(d.changeFailure).toEqual({ failed: 1, total: 2, rate: 0.5 });
    expect(d.restore).toMatchObject({ restored: 0, open: 1, openSince: T0 + 2 * D });
  });

  it('a failure still open at the end of the period, restored after it: open now, its real time in the earlier period', () => {
    const failed = e(T0 + 6 * D, 'failed');
    const fix = e(T0 + 8 * D, 'succeeded');
    const all = [e(T0 + D), failed, fix];
    const week1 = computeDora(all.filter((x) => x.at < T0 + 7 * D), T0, T0 + 7 * D);
    expect(week1.restore).toMatchObject({ open: 1, restored: 0 });
    const later = stats('production', all, T0 + 14 * D, 7 * D);
    expect(later.previous.restore).toMatchObject({ open: 0, restored: 1, median: 2 * D });
    expect(later.current.restore).toMatchObject({ open: 0, restored: 0 });
  });

  it('a period with one deploy: one a month is the Medium band', () => {
    const d = computeDora([e(T0 + 3 * D, 'succeeded', 'deploy', 2 * H)], T0, T0 + 30 * D);
    expect(d).toMatchObject({ deploys: 1, leadTime: { median: 2 * H, p90: 2 * H, count: 1 }, changeFailure: { failed: 0, total: 1, rate: 0 } });
    expect(band('frequency', d)).toBe('Medium');
    expect(band('changeFailure', d)).toBe('Elite');
  });

  it('a hotfix marks the change before it failed and restores it; a failed canary then its rollback count once', () => {
    const a = e(T0 + D);
    const hot = e(T0 + D + 2 * H, 'succeeded', 'hotfix');
    const canary = e(T0 + 2 * D, 'failed');
    const rb = e(T0 + 2 * D + 10 * 60_000, 'succeeded', 'rollback');
    const others = [e(T0 + 3 * D, 'succeeded', 'flag'), e(T0 + 3 * D, 'succeeded', 'lock'), e(T0 + 3 * D, 'succeeded', 'migrate')];
    const f = failures([a, hot, canary, rb, ...others]);
    expect(f.map((x) => [x.entry.deployId, x.restoredAt! - x.at])).toEqual([[a.deployId, 2 * H], [canary.deployId, 10 * 60_000]]);
    const d = computeDora([a, hot, canary, rb, ...others], T0, T0 + 7 * D);
    expect(d.deploys).toBe(2);
    expect(d.changeFailure).toEqual({ failed: 2, total: 3, rate: 2 / 3 });
  });

  it('cancelled, rejected and interrupted deploys are not changes', () => {
    const d = computeDora([e(T0 + D, 'cancelled'), e(T0 + D, 'rejected'), e(T0 + D, 'interrupted')], T0, T0 + 7 * D);
    expect(d.changeFailure.total).toBe(0);
  });

  it('trend against the previous period says better or worse per metric', () => {
    const entries = [e(T0 + D, 'succeeded', 'deploy', 10 * H), e(T0 + 8 * D, 'succeeded', 'deploy', 2 * H), e(T0 + 9 * D, 'succeeded', 'deploy', 2 * H)];
    const s = stats('production', entries, T0 + 14 * D, 7 * D);
    expect(trend('frequency', s.current, s.previous)).toMatchObject({ better: true });
    expect(trend('leadTime', s.current, s.previous)).toEqual({ delta: -8 * H, better: true });
    expect(trend('changeFailure', s.current, s.previous)).toEqual({ delta: 0 });
    expect(trend('restore', s.current, s.previous)).toBeUndefined();
  });

  it('percentile is PERCENTILE_CONT', () => {
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1);
  });

  it('series: per day by outcome, per week lead time and failure rate', () => {
    const entries = [e(T0 + 1 * H, 'succeeded', 'deploy', H), e(T0 + 2 * H), e(T0 + 3 * H, 'succeeded', 'rollback'), e(T0 + D + H, 'failed')];
    const s = series(entries, T0, T0 + 7 * D);
    expect(s.days).toHaveLength(7);
    expect(s.days[0]).toMatchObject({ ok: 1, failed: 1, rollbacks: 1 });
    expect(s.days[1]).toMatchObject({ ok: 0, failed: 1, rollbacks: 0 });
    expect(s.weeks).toEqual([{ week: T0, leadMedianH: 1, failureRate: 2 / 3 }]);
  });
});
