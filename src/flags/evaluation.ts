// Pure flag rules: what a flag is, how one environment's state evaluates for a context (OFREP's answer
// shapes), and the checks a value must pass for its flag's value type. No Redis, no Slack: the service and
// the OFREP routes call these, and so do the tests and the benchmark directly.
import { createHash } from 'node:crypto';

export const VALUE_TYPES = ['boolean', 'string', 'number', 'json'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];
export type FlagValue = boolean | string | number | Record<string, unknown>;

/** One environment's state of a flag. */
export interface EnvFlagState {
  enabled: boolean;
  /** Boolean flags only: the share of targeting keys that get `true` while enabled (100 when absent). */
  percentage?: number;
  /** Non-boolean flags: the value served while enabled (the flag's defaultValue while disabled). */
  value?: FlagValue;
  changedAt: number;
  changedBy: string;
  /** Set by /flag kill: why the flag was switched off in a hurry. */
  killed?: { by: string; at: number; reason: string };
}

export interface Flag {
  key: string;
  /** The flag type from config (release, experiment, kill-switch, config…). */
  type: string;
  valueType: ValueType;
  description: string;
  owner: string;
  createdAt: number;
  /** Served when a non-boolean flag is disabled (and by environments never set). */
  defaultValue: FlagValue;
  archived?: boolean;
  envs: Record<string, EnvFlagState>;
  rev: number;
}

export const FLAG_KEY = /^[a-z][a-z0-9_.-]{0,63}$/i;

/** OFREP's evaluation answers (components/schemas in openapi.yaml). */
export type EvaluationSuccess = { key: string; reason: 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED'; variant: string; value: FlagValue; metadata?: Record<string, string | number | boolean> };
export type EvaluationFailure = { key: string; errorCode: 'FLAG_NOT_FOUND' | 'TARGETING_KEY_MISSING' | 'PARSE_ERROR' | 'INVALID_CONTEXT' | 'GENERAL'; errorDetails: string };
export type Evaluation = EvaluationSuccess | EvaluationFailure;

/**
 * The bucket of a targeting key for a flag, 0..9999, from a SHA-256 of `flagKey/targetingKey`: stable across
 * processes and restarts, independent between flags. A key is in at p % when its bucket < p·100, so a key in
 * at 10 % is in at every higher percentage (monotone by construction).
 */
export function bucketOf(flagKey: string, targetingKey: string): number {
  return createHash('sha256').update(`${flagKey}/${targetingKey}`).digest().readUInt32BE(0) % 10_000;
}

export function inRollout(flagKey: string, targetingKey: string, percentage: number): boolean {
  return bucketOf(flagKey, targetingKey) < Math.round(percentage * 100);
}

export function isPercentage(state: EnvFlagState | undefined): boolean {
  return !!state?.enabled && state.percentage !== undefined && state.percentage < 100;
}

/** Evaluates a flag in one environment for an evaluation context (already checked to be an object). */
export function evaluate(flag: Flag | undefined, key: string, env: string, context: Record<string, unknown>): Evaluation {
  if (!flag || flag.archived) return { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `Flag '${key}' was not found` };
  const state = flag.envs[env];
  const metadata = { type: flag.type };
  if (flag.valueType !== 'boolean') {
    if (!state?.enabled) return { key, reason: 'DISABLED', variant: 'default', value: flag.defaultValue, metadata };
    return { key, reason: 'STATIC', variant: 'configured', value: state.value ?? flag.defaultValue, metadata };
  }
  if (!state?.enabled) return { key, reason: 'DISABLED', variant: 'off', value: false, metadata };
  if (!isPercentage(state)) return { key, reason: 'STATIC', variant: 'on', value: true, metadata };
  const targetingKey = context.targetingKey;
  if (typeof targetingKey !== 'string' || targetingKey === '') {
    return { key, errorCode: 'TARGETING_KEY_MISSING', errorDetails: `Flag '${key}' is rolled out to ${state.percentage}% and needs a targetingKey in the context` };
  }
  const on = inRollout(key, targetingKey, state.percentage ?? 100);
  return { key, reason: 'SPLIT', variant: on ? 'on' : 'off', value: on, metadata };
}

/** Reads a typed value for a flag (`/flag max_rows set 500 prod`); returns the value or why it is not one. */
export function parseValue(valueType: ValueType, text: string): { value: FlagValue } | { problem: string } {
  const t = text.trim();
  switch (valueType) {
    case 'boolean':
      if (/^(true|on|yes)$/i.test(t)) return { value: true };
      if (/^(false|off|no)$/i.test(t)) return { value: false };
      return { problem: `\`${t}\` is not a boolean: use true or false` };
    case 'number': {
      const n = Number(t);
      return t !== '' && Number.isFinite(n) ? { value: n } : { problem: `\`${t}\` is not a number` };
    }
    case 'string':
      return t.length > 0 && t.length <= 500 ? { value: t.replace(/^"(.*)"$/s, '$1') } : { problem: 'a string value needs 1–500 characters' };
    case 'json': {
      try {
        const v = JSON.parse(t) as unknown;
        // OFREP carries objects (objectFlag); a JSON flag's value is one.
        if (v && typeof v === 'object' && !Array.isArray(v)) return { value: v as Record<string, unknown> };
        return { problem: '`set` on a JSON flag needs a JSON object, e.g. {"limit": 5}' };
      } catch (err) {
        return { problem: `not valid JSON: ${(err as Error).message}` };
      }
    }
  }
}

/** The default a new flag of a value type starts with (off / empty). */
export function defaultFor(valueType: ValueType): FlagValue {
  return valueType === 'boolean' ? false : valueType === 'number' ? 0 : valueType === 'string' ? '' : {};
}

/** "on", "off", "25%", "= 500": one environment's state in a word or two. */
export function describeState(flag: Flag, env: string): string {
  const s = flag.envs[env];
  if (!s?.enabled) return s?.killed ? 'off (killed)' : 'off';
  if (flag.valueType !== 'boolean') return `on = ${JSON.stringify(s.value ?? flag.defaultValue)}`;
  return isPercentage(s) ? `${s.percentage}%` : 'on';
}

/** Fully on: served to everyone (a boolean at 100 %, or any enabled value flag). */
export function fullyOn(flag: Flag, env: string): boolean {
  const s = flag.envs[env];
  return !!s?.enabled && !isPercentage(s);
}
