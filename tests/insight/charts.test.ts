// The chart PNG: a real PNG (signature, IHDR) at the expected size, and different when the numbers differ.
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/deploys/deploy-store.js';
import { CHART_HEIGHT, CHART_WIDTH, chartPng } from '../../src/insight/charts.js';
import { series } from '../../src/insight/dora.js';

const D = 24 * 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function history(failEvery: number): LogEntry[] {
  return Array.from({ length: 40 }, (_, i) => ({
    deployId: String(i), env: 'production', version: `v${i}`, ref: `v${i}`, deployedBy: 'U1', at: T0 + (i % 30) * D + i * 1000, notes: [],
    status: i % failEvery === 0 ? ('failed' as const) : ('succeeded' as const), firstCommitAt: T0 + (i % 30) * D - (i % 5) * 3_600_000,
  }));
}

/** Width and height from the IHDR chunk, which must come first. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('DORA chart', () => {
  it('renders a PNG of the expected size that changes with the data', () => {
    const a = chartPng('production — last 30 days', series(history(5), T0, T0 + 30 * D));
    expect(pngSize(a)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    expect(a.length).toBeGreaterThan(10_000); // drawn, not blank
    const again = chartPng('production — last 30 days', series(history(5), T0, T0 + 30 * D));
    expect(again.equals(a)).toBe(true);
    const b = chartPng('production — last 30 days', series(history(3), T0, T0 + 30 * D));
    expect(b.equals(a)).toBe(false);
    const small = chartPng('x', series([], T0, T0 + 7 * D), { width: 480, height: 360 });
    expect(pngSize(small)).toEqual({ width: 480, height: 360 });
  });
});
