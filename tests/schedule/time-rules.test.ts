// Time rules across zones and DST changes, with time given explicitly (no clock read).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { nextWindow, openWindow, soakProblem, timeRulesProblem, windowsText } from '../../src/schedule/schedule.js';
import { formatBoth, occurrences } from '../../src/schedule/time-rules.js';

const iso = (t: number) => new Date(t).toISOString();
const H = 3_600_000;

describe('recurring spans', () => {
  it('a 4-weekly Sunday 02:00 window in Europe/Berlin lands on the DST weekend at the shifted instant and keeps 2 hours', () => {
    const span = { every: 'FREQ=WEEKLY;INTERVAL=4;BYDAY=SU', start: '2026-03-01T02:00', duration: 2 * H, timeZone: 'Europe/Berlin' };
    const got = occurrences(span, Date.UTC(2026, 1, 20), Date.UTC(2026, 4, 1)).map((o) => [iso(o.start), iso(o.end)]);
    expect(got).toEqual([
      ['2026-03-01T01:00:00.000Z', '2026-03-01T03:00:00.000Z'], // CET: 02:00 = 01:00Z
      // 29 March 2026 is the spring-forward Sunday: 02:00 does not exist, the zone moves it to 03:00 CEST = 01:00Z.
      ['2026-03-29T01:00:00.000Z', '2026-03-29T03:00:00.000Z'],
      ['2026-04-26T00:00:00.000Z', '2026-04-26T02:00:00.000Z'], // CEST: 02:00 = 00:00Z
    ]);
  });

  it('the same rule in America/Los_Angeles on its DST weekend (8 March 2026)', () => {
    const span = { every: 'FREQ=WEEKLY;INTERVAL=4;BYDAY=SU', start: '2026-02-08T02:00', duration: 2 * H, timeZone: 'America/Los_Angeles' };
    expect(occurrences(span, Date.UTC(2026, 1, 1), Date.UTC(2026, 3, 10)).map((o) => iso(o.start))).toEqual(['2026-02-08T10:00:00.000Z', '2026-03-08T10:00:00.000Z', '2026-04-05T09:00:00.000Z']);
  });

  it('SarvanOM: every 4 weeks, Sunday 02:00–04:00 UTC', () => {
    const span = { every: 'FREQ=WEEKLY;INTERVAL=4;BYDAY=SU', start: '2026-01-04T02:00', duration: 2 * H, timeZone: 'UTC' };
    expect(occurrences(span, Date.UTC(2026, 0, 1), Date.UTC(2026, 2, 1)).map((o) => iso(o.start))).toEqual(['2026-01-04T02:00:00.000Z', '2026-02-01T02:00:00.000Z']);
  });
});

const YAML = `
schedule:
  timeZone: UTC
  maintenanceWindows:
    - { name: monthly, every: "FREQ=WEEKLY;INTERVAL=4;BYDAY=SU", start: "2026-01-04T02:00", duration: 2h, environments: [production] }
    - { name: late, every: "FREQ=WEEKLY;BYDAY=SA", start: "2026-01-03T23:00", duration: 3h, timeZone: Europe/Berlin, environments: [staging] }
  freezes:
    - { reason: "Year-end freeze", start: "2026-12-20", until: "2027-01-04", environments: [production] }
    - { reason: "No Friday deploys", every: "FREQ=WEEKLY;BYDAY=FR", start: "2026-01-02T12:00", duration: 12h, environments: [production], allowHotfix: false }
  releaseCalendar:
    - { name: regular, every: "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", start: "2026-01-06", environments: [production], enforce: true }
    - { name: major, every: "FREQ=WEEKLY;INTERVAL=6;BYDAY=TU", start: "2026-01-06" }
environments:
  - name: staging
    steps: [{ name: s, run: [true] }]
  - name: production
    requires: { succeededOn: staging, soakFor: 3d }
    steps: [{ name: s, run: [true] }]
`;
const config = parseConfig(YAML, 'test.yml', {});
const prod = config.environments[1]!;

describe('rules from config', () => {
  it('a window crossing midnight (Saturday 23:00–02:00 Berlin) is open after midnight and closed after it ends', () => {
    // Sat 10 Jan 2026 23:00 CET = 22:00Z; Sunday 00:30 CET = 23:30Z Saturday.
    expect(openWindow(config, 'staging', Date.UTC(2026, 0, 10, 23, 30))?.name).toBe('late');
    expect(openWindow(config, 'staging', Date.UTC(2026, 0, 11, 0, 59))?.name).toBe('late');
    expect(openWindow(config, 'staging', Date.UTC(2026, 0, 11, 1, 0))).toBeUndefined();
    expect(openWindow(config, 'production', Date.UTC(2026, 0, 10, 23, 30))).toBeUndefined();
  });

  it('the next window is said in UTC and in the requester\'s zone: UTC-8 and UTC+5:30', () => {
    const next = nextWindow(config, 'production', Date.UTC(2026, 0, 5));
    expect(iso(next!.start)).toBe('2026-02-01T02:00:00.000Z');
    expect(formatBoth(next!.start, 'America/Los_Angeles')).toBe('Sun 1 Feb 2026 02:00 UTC = Sat 31 Jan 2026 18:00 (America/Los_Angeles, UTC-08:00) your time');
    expect(formatBoth(next!.start, 'Asia/Kolkata')).toBe('Sun 1 Feb 2026 02:00 UTC = Sun 1 Feb 2026 07:30 (Asia/Kolkata, UTC+05:30) your time');
  });

  it('a freeze refuses a deploy with its reason and end; a hotfix passes unless the freeze says otherwise', () => {
    const tuesdayInFreeze = Date.UTC(2026, 11, 22, 10); // a Tuesday
    expect(timeRulesProblem(config, prod, tuesdayInFreeze, {})).toContain('Year-end freeze');
    expect(timeRulesProblem(config, prod, tuesdayInFreeze, {})).toContain('Mon 4 Jan 2027 00:00 UTC');
    expect(timeRulesProblem(config, prod, tuesdayInFreeze, { hotfix: true })).toBeUndefined();
    const friday = Date.UTC(2026, 0, 9, 13);
    expect(timeRulesProblem(config, prod, friday, { hotfix: true })).toContain('No Friday deploys');
    expect(timeRulesProblem(config, config.environments[0]!, tuesdayInFreeze, {})).toBeUndefined();
  });

  it('an enforced release calendar lets regular deploys out on release days only, and says the next one', () => {
    expect(timeRulesProblem(config, prod, Date.UTC(2026, 0, 20, 9), {})).toBeUndefined(); // Tue 20 Jan: 2 weeks after 6 Jan
    const wednesday = timeRulesProblem(config, prod, Date.UTC(2026, 0, 21, 9), {});
    expect(wednesday).toContain('release days only');
    expect(wednesday).toContain('Tue 3 Feb 2026 00:00 UTC');
    expect(timeRulesProblem(config, prod, Date.UTC(2026, 0, 21, 9), { hotfix: true })).toBeUndefined();
  });

  it('soak time: refused with when it will be allowed, then accepted', () => {
    const since = Date.UTC(2026, 0, 5, 12);
    const early = soakProblem(prod, 'v1.4.0', since, since + 24 * H, 'Asia/Kolkata');
    expect(early).toContain('for 1 day');
    expect(early).toContain('Thu 8 Jan 2026 12:00 UTC = Thu 8 Jan 2026 17:30 (Asia/Kolkata, UTC+05:30) your time');
    expect(soakProblem(prod, 'v1.4.0', since, since + 72 * H)).toBeUndefined();
  });

  it('/deploys windows lists windows, freezes and release days', () => {
    const text = windowsText(config, Date.UTC(2026, 11, 1), 'America/Los_Angeles');
    expect(text).toContain('*monthly* (production, 2 hours)');
    expect(text).toContain('Year-end freeze');
    expect(text).toContain('*regular* (production, enforced');
    expect(text).toContain('*major* (all environments)');
  });

  it('a bad rule, zone or date stops the config with the path', () => {
    expect(() => parseConfig(YAML.replace('FREQ=WEEKLY;INTERVAL=4;BYDAY=SU', 'EVERY=SUNDAY'), 't.yml', {})).toThrow(/schedule\.maintenanceWindows\.0\.every/);
    expect(() => parseConfig(YAML.replace('Europe/Berlin', 'Mars/Olympus'), 't.yml', {})).toThrow(/not a time zone/);
    expect(() => parseConfig(YAML.replace('2027-01-04', '2027-02-30'), 't.yml', {})).toThrow(/not a real date/);
  });
});
