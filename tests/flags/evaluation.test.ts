// The pure flag rules: sticky, monotone percentage rollout with an even spread; OFREP answer shapes; typed values.
import { describe, expect, it } from 'vitest';
import { bucketOf, evaluate, inRollout, parseValue, type Flag } from '../../src/flags/evaluation.js';

const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function flag(over: Partial<Flag> = {}): Flag {
  return { key: 'new_query_ui', type: 'release', valueType: 'boolean', description: 'x', owner: 'U0ALICE', createdAt: 0, defaultValue: false, envs: {}, rev: 1, ...over };
}

describe('percentage rollout', () => {
  it('serves 25 % ± 2 % of 10,000 keys', () => {
    const on = keys.filter((k) => inRollout('new_query_ui', k, 25)).length;
    expect(on / keys.length).toBeGreaterThanOrEqual(0.23);
    expect(on / keys.length).toBeLessThanOrEqual(0.27);
  });

  it('keeps everyone who was in as the percentage rises (10 → 25 → 50 → 100), and grows', () => {
    let previous = new Set<string>();
    for (const p of [0, 1, 5, 10, 25, 50, 75, 100]) {
      const now = new Set(keys.filter((k) => inRollout('new_query_ui', k, p)));
      for (const k of previous) expect(now.has(k)).toBe(true);
      expect(now.size).toBeGreaterThanOrEqual(previous.size);
      previous = now;
    }
    expect(previous.size).toBe(keys.length);
  });

  it('is sticky (same key, same answer) and independent between flags', () => {
    expect(keys.slice(0, 200).map((k) => bucketOf('a', k))).toEqual(keys.slice(0, 200).map((k) => bucketOf('a', k)));
    const inA = keys.filter((k) => inRollout('flag_a', k, 50));
    const inBoth = inA.filter((k) => inRollout('flag_b', k, 50)).length;
    // Independent flags: about a quarter of all keys are in both, not half.
    expect(inBoth / keys.length).toBeGreaterThan(0.22);
    expect(inBoth / keys.length).toBeLessThan(0.28);
  });
});

describe('evaluate', () => {
  it('answers OFREP shapes: disabled, static, split, missing targeting key, not found', () => {
    expect(evaluate(undefined, 'nope', 'prod', {})).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    expect(evaluate(flag(), 'new_query_ui', 'prod', {})).toMatchObject({ value: false, reason: 'DISABLED' });
    const on = flag({ envs: { prod: { enabled: true, percentage: 100, changedAt: 0, changedBy: 'U' } } });
    expect(evaluate(on, 'new_query_ui', 'prod', {})).toMatchObject({ value: true, reason: 'STATIC' });
    const split = flag({ envs: { prod: { enabled: true, percentage: 25, changedAt: 0, changedBy: 'U' } } });
    expect(evaluate(split, 'new_query_ui', 'prod', {})).toMatchObject({ errorCode: 'TARGETING_KEY_MISSING' });
    expect(evaluate(split, 'new_query_ui', 'prod', { targetingKey: 'user-1' })).toMatchObject({ reason: 'SPLIT', value: inRollout('new_query_ui', 'user-1', 25) });
    expect(evaluate(flag({ archived: true }), 'new_query_ui', 'prod', {})).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
  });

  it('serves a value flag its value when on and its default when off', () => {
    const f = flag({ key: 'max_rows', valueType: 'number', defaultValue: 100, envs: { prod: { enabled: true, value: 500, changedAt: 0, changedBy: 'U' } } });
    expect(evaluate(f, 'max_rows', 'prod', {})).toMatchObject({ value: 500, reason: 'STATIC' });
    expect(evaluate(f, 'max_rows', 'dev', {})).toMatchObject({ value: 100, reason: 'DISABLED' });
  });
});

describe('parseValue', () => {
  it('checks a value against the flag type', () => {
    expect(parseValue('number', '500')).toEqual({ value: 500 });
    expect(parseValue('number', 'lots')).toHaveProperty('problem');
    expect(parseValue('boolean', 'maybe')).toHaveProperty('problem');
    expect(parseValue('json', '{"a": 1}')).toEqual({ value: { a: 1 } });
    expect(parseValue('json', '[1]')).toHaveProperty('problem');
    expect(parseValue('json', '{oops')).toHaveProperty('problem');
    expect(parseValue('string', '"blue"')).toEqual({ value: 'blue' });
  });
});
