// The config's time rules applied to one environment at one instant: is a maintenance window open, does a
// freeze refuse this deploy, is today a release day, has the version soaked long enough on the previous
// environment. Answers are sentences for people: each refusal says why and when it will be allowed, in UTC
// and in the requester's time zone.
import ms from 'ms';
import type { Config, EnvironmentConfig, FreezeConfig, MaintenanceWindowConfig, ReleaseDayConfig } from '../core/config.js';
import { activeAt, formatBoth, upcoming, type Occurrence, type SpanRule } from './time-rules.js';

type Named = { environments: string[] };
const covers = (rule: Named, env: string) => rule.environments.length === 0 || rule.environments.includes(env);

export function windowSpan(config: Config, w: MaintenanceWindowConfig): SpanRule {
  return { every: w.every, start: w.start, duration: w.duration, timeZone: w.timeZone ?? config.schedule.timeZone };
}
export function freezeSpan(config: Config, f: FreezeConfig): SpanRule {
  return { ...(f.every ? { every: f.every } : {}), start: f.start, ...(f.until ? { until: f.until } : {}), ...(f.duration ? { duration: f.duration } : {}), timeZone: f.timeZone ?? config.schedule.timeZone };
}
export function releaseSpan(config: Config, r: ReleaseDayConfig): SpanRule {
  return { every: r.every, start: r.start, ...(r.duration ? { duration: r.duration } : {}), timeZone: r.timeZone ?? config.schedule.timeZone };
}

export function windowsFor(config: Config, env: string): MaintenanceWindowConfig[] {
  return config.schedule.maintenanceWindows.filter((w) => covers(w, env));
}

/** The maintenance window open on `env` at `now`, if any. */
export function openWindow(config: Config, env: string, now: number): (Occurrence & { name: string }) | undefined {
  for (const w of windowsFor(config, env)) {
    const o = activeAt(windowSpan(config, w), now);
    if (o) return { ...o, name: w.name };
  }
  return undefined;
}

/** The next maintenance window of `env` that has not ended (the open one first). */
export function nextWindow(config: Config, env: string, now: number): (Occurrence & { name: string }) | undefined {
  const next = windowsFor(config, env)
    .flatMap((w) => upcoming(windowSpan(config, w), now, 1).map((o) => ({ ...o, name: w.name })))
    .sort((a, b) => a.start - b.start);
  return next[0];
}

/** The freeze on `env` at `now`, if any (for the dry run: whether a hotfix would pass it is `freeze.allowHotfix`). */
export function activeFreeze(config: Config, env: string, now: number): (Occurrence & { freeze: FreezeConfig }) | undefined {
  for (const f of config.schedule.freezes.filter((x) => covers(x, env))) {
    const o = activeAt(freezeSpan(config, f), now);
    if (o) return { ...o, freeze: f };
  }
  return undefined;
}

/**
 * The release calendar as it stands for `env` at `now`: the release day under way (its name), the next one, and
 * whether regular deploys are held to it. Undefined when no release day covers `env`.
 */
export function releaseDayStatus(config: Config, env: string, now: number): { names: string[]; today?: string; next?: Occurrence & { name: string }; enforced: boolean; holdsRegular: boolean } | undefined {
  const days = config.schedule.releaseCalendar.filter((r) => covers(r, env));
  if (!days.length) return undefined;
  const today = days.find((r) => activeAt(releaseSpan(config, r), now))?.name;
  const next = days.flatMap((r) => upcoming(releaseSpan(config, r), now, 2).filter((o) => o.start > now).slice(0, 1).map((o) => ({ ...o, name: r.name }))).sort((a, b) => a.start - b.start)[0];
  const enforced = days.filter((r) => r.enforce);
  // As timeRulesProblem judges it: enforced release days exist and none of them is under way.
  const holdsRegular = enforced.length > 0 && !enforced.some((r) => activeAt(releaseSpan(config, r), now));
  return { names: days.map((r) => r.name), ...(today ? { today } : {}), ...(next ? { next } : {}), enforced: enforced.length > 0, holdsRegular };
}

export interface DeployKind {
  /** A hotfix passes freezes (unless the freeze says otherwise) and the release calendar. */
  hotfix?: boolean;
}

/** Why a deploy to `env` is refused at `now` by a freeze or an enforced release calendar, or undefined. */
export function timeRulesProblem(config: Config, env: EnvironmentConfig, now: number, kind: DeployKind, userTz?: string): string | undefined {
  for (const f of config.schedule.freezes.filter((x) => covers(x, env.name))) {
    const o = activeAt(freezeSpan(config, f), now);
    if (!o || (kind.hotfix && f.allowHotfix)) continue;
    const pass = f.allowHotfix ? ' Hotfixes may still go out (`--hotfix`).' : '';
    return `*${env.name}* is frozen: ${f.reason}. Deploys are refused until ${formatBoth(o.end, userTz)}.${pass}`;
  }
  if (kind.hotfix) return undefined;
  const enforced = config.schedule.releaseCalendar.filter((r) => r.enforce && covers(r, env.name));
  if (enforced.length && !enforced.some((r) => activeAt(releaseSpan(config, r), now))) {
    const next = enforced.flatMap((r) => upcoming(releaseSpan(config, r), now, 1).map((o) => ({ ...o, name: r.name }))).sort((a, b) => a.start - b.start)[0];
    return `Regular deploys to *${env.name}* go out on release days only (${enforced.map((r) => r.name).join(', ')}).${next ? ` The next one (${next.name}) starts ${formatBoth(next.start, userTz)}.` : ''} A hotfix may go out any day (\`--hotfix\`).`;
  }
  return undefined;
}

/**
 * Why `version` has not soaked long enough on the previous environment, or undefined. `since` is when it last
 * succeeded there (undefined: the promotion rule itself refuses it).
 */
export function soakProblem(env: EnvironmentConfig, version: string, since: number | undefined, now: number, userTz?: string): string | undefined {
  const soak = env.requires?.soakFor;
  if (!soak || since === undefined || now - since >= soak) return undefined;
  const from = env.requires?.succeededOn ?? '';
  return `\`${version}\` has been on *${from}* for ${ms(Math.max(0, now - since), { long: true })}; ${env.name} takes versions after ${ms(soak, { long: true })} there. It may go from ${formatBoth(since + soak, userTz)}.`;
}

/** `/deploys windows`: the next maintenance windows, freezes and release days, in UTC and the reader's zone. */
export function windowsText(config: Config, now: number, userTz: string | undefined, only?: string): string {
  const s = config.schedule;
  const envs = (rule: Named) => (rule.environments.length ? rule.environments.join(', ') : 'all environments');
  const show = (rule: Named) => !only || covers(rule, only);
  const lines: string[] = [`*Time rules*${only ? ` for ${only}` : ''} — times in UTC${userTz && userTz !== 'UTC' && userTz !== 'Etc/UTC' ? ` and in your time zone (${userTz})` : ''}.`];
  const windows = s.maintenanceWindows.filter(show);
  lines.push(windows.length ? '*Maintenance windows*' : '*Maintenance windows:* none.');
  for (const w of windows) {
    const next = upcoming(windowSpan(config, w), now, 3);
    lines.push(`• *${w.name}* (${envs(w)}, ${ms(w.duration, { long: true })}):${next.map((o) => `\n    ${o.start <= now ? ':large_green_circle: open now, until ' + formatBoth(o.end, userTz) : formatBoth(o.start, userTz)}`).join('')}`);
  }
  const freezes = s.freezes.filter(show).flatMap((f) => upcoming(freezeSpan(config, f), now, 2).map((o) => ({ o, f })));
  lines.push(freezes.length ? '*Deploy freezes*' : '*Deploy freezes:* none ahead.');
  for (const { o, f } of freezes) lines.push(`• ${o.start <= now ? ':no_entry: *now* ' : ''}${formatBoth(o.start, userTz)} → ${formatBoth(o.end, userTz)} (${envs(f)}): ${f.reason}${f.allowHotfix ? '' : ' — hotfixes too'}`);
  const calendar = s.releaseCalendar.filter(show);
  lines.push(calendar.length ? '*Release calendar*' : '*Release calendar:* none.');
  for (const r of calendar) {
    const next = upcoming(releaseSpan(config, r), now, 3);
    lines.push(`• *${r.name}* (${envs(r)}${r.enforce ? ', enforced: regular deploys only then' : ''}): ${next.map((o) => formatBoth(o.start, userTz)).join('; ')}`);
  }
  return lines.join('\n');
}
