// Time rules as pure functions: when a recurring span (maintenance window, freeze, release day) happens, in
// real instants. Recurrence comes from an RFC 5545 rule (the rrule package) evaluated on wall-clock time in the
// rule's own time zone; @date-fns/tz turns each wall-clock start into an instant, so DST is the zone's business,
// not ours. No I/O here.
import * as rruleModule from 'rrule';
import { TZDate } from '@date-fns/tz';
import { addDays, format } from 'date-fns';

// rrule's ESM build is CommonJS-shaped: under Node its classes hang off the default export, under bundlers not.
const RRule: typeof rruleModule.RRule = rruleModule.RRule ?? (rruleModule as unknown as { default: typeof rruleModule }).default.RRule;

/** A span of time from config: one-off (`start` + `until` or `duration`) or recurring (`every` + `start` + `duration`). */
export interface SpanRule {
  /** RRULE body without DTSTART, e.g. FREQ=WEEKLY;INTERVAL=4;BYDAY=SU. */
  every?: string;
  /** Local date (2026-01-04) or date and time (2026-01-04T02:00) in `timeZone`; for a recurring span, its first occurrence. */
  start: string;
  /** One-off spans: when it ends (local, in `timeZone`). */
  until?: string;
  /** Length of each occurrence, ms. */
  duration?: number;
  timeZone: string;
}

export interface Occurrence {
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/;

/** Why a string is not an IANA time zone (or UTC offset) that Intl knows, or undefined. */
export function timeZoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return undefined;
  } catch {
    return `"${tz}" is not a time zone (use an IANA name such as UTC, Europe/Berlin or America/Los_Angeles)`;
  }
}

/** Why a string is not an RRULE body rrule can read, or undefined. */
export function ruleProblem(rule: string): string | undefined {
  if (/DTSTART|UNTIL=\d{8}T\d{6}[^Z]/i.test(rule)) return 'give the first occurrence in `start`, not DTSTART';
  try {
    const opts = RRule.parseString(rule);
    if (opts.freq === undefined) return `"${rule}" has no FREQ (e.g. FREQ=WEEKLY;INTERVAL=4;BYDAY=SU)`;
    return undefined;
  } catch (err) {
    return `"${rule}" is not a recurrence rule: ${(err as Error).message}`;
  }
}

export function localProblem(text: string): string | undefined {
  const m = LOCAL.exec(text);
  if (!m) return `"${text}" is not a local date or date-time (write 2026-01-04 or 2026-01-04T02:00)`;
  const [, y, mo, d, h = '0', mi = '0'] = m;
  const back = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi));
  if (back.getUTCMonth() !== +mo! - 1 || back.getUTCDate() !== +d! || +h > 23 || +mi > 59) return `"${text}" is not a real date and time`;
  return undefined;
}

/** Wall-clock fields as a "floating" Date (its UTC fields are the local ones): what rrule computes on. */
function floating(text: string): Date {
  const [, y, mo, d, h = '0', mi = '0'] = LOCAL.exec(text) ?? [];
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi));
}

/** The wall clock of instant `t` in `tz`, as a floating Date. */
function wallClock(t: number, tz: string): Date {
  const z = new TZDate(t, tz);
  return new Date(Date.UTC(z.getFullYear(), z.getMonth(), z.getDate(), z.getHours(), z.getMinutes(), z.getSeconds()));
}

/** The instant a floating wall-clock time names in `tz` (a time skipped by DST moves forward, as the zone does). */
function instant(f: Date, tz: string): number {
  return new TZDate(f.getUTCFullYear(), f.getUTCMonth(), f.getUTCDate(), f.getUTCHours(), f.getUTCMinutes(), tz).getTime();
}

/** Occurrences of the span that end after `from` and start before `to`, in order. */
export function occurrences(span: SpanRule, from: number, to: number): Occurrence[] {
  const first = floating(span.start);
  if (!span.every) {
    const start = instant(first, span.timeZone);
    const end = span.until ? instant(floating(span.until), span.timeZone) : start + (span.duration ?? DAY_MS);
    return end > from && start < to ? [{ start, end }] : [];
  }
  const duration = span.duration ?? DAY_MS;
  const rule = new RRule({ ...RRule.parseString(span.every), dtstart: first });
  // Search on the wall clock with a day's margin either side (zone offsets), then keep what really overlaps.
  const after = addDays(wallClock(from - duration, span.timeZone), -1);
  const before = addDays(wallClock(to, span.timeZone), 1);
  return rule
    .between(after, before, true)
    .map((f) => {
      const start = instant(f, span.timeZone);
      return { start, end: start + duration };
    })
    .filter((o) => o.end > from && o.start < to);
}

/** The occurrence under way at `now`, if any. */
export function activeAt(span: SpanRule, now: number): Occurrence | undefined {
  return occurrences(span, now, now + 1)[0];
}

/** The next `count` occurrences that have not ended at `now` (the current one first), looking up to `horizonDays` ahead. */
export function upcoming(span: SpanRule, now: number, count: number, horizonDays = 400): Occurrence[] {
  return occurrences(span, now, now + horizonDays * DAY_MS).slice(0, count);
}

/** "Sun 29 Mar 2026 01:00 UTC", or in another zone "Sat 28 Mar 2026 18:00 (America/Los_Angeles, UTC-07:00)". */
export function formatInstant(t: number, tz = 'UTC'): string {
  const z = new TZDate(t, tz);
  const when = format(z, 'EEE d MMM yyyy HH:mm');
  if (tz === 'UTC' || tz === 'Etc/UTC') return `${when} UTC`;
  return `${when} (${tz}, UTC${format(z, 'xxx')})`;
}

/** An instant in UTC and, when it differs, in the reader's zone: "Sun 29 Mar 2026 01:00 UTC = Sat 28 Mar 2026 18:00 (America/Los_Angeles, UTC-07:00)". */
export function formatBoth(t: number, userTz?: string): string {
  const utc = formatInstant(t, 'UTC');
  if (!userTz || userTz === 'UTC' || userTz === 'Etc/UTC') return utc;
  return `${utc} = ${formatInstant(t, userTz)} your time`;
}
