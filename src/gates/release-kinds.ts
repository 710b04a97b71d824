// Release kinds (config releaseKinds): which kind governs a release or hotfix, the environment its deploys'
// gates are computed from (the kind's approvals and checklist in place of the environment's), and the words
// that say which rules apply and why — in replies, the release status message and the gate message.
import ms from 'ms';
import { roleLabel, type Config, type EnvironmentConfig, type ReleaseKindConfig, type RELEASE_TRIGGERS } from '../core/config.js';

export function kindFor(config: Config, trigger: (typeof RELEASE_TRIGGERS)[number]): string | undefined {
  return Object.entries(config.releaseKinds).find(([, k]) => k.for.includes(trigger))?.[0];
}

export function kindRules(config: Config, name: string | undefined): ReleaseKindConfig | undefined {
  return name && Object.hasOwn(config.releaseKinds, name) ? config.releaseKinds[name] : undefined;
}

export function kindLabel(config: Config, name: string): string {
  return kindRules(config, name)?.label ?? `${name.charAt(0).toUpperCase()}${name.slice(1)} release`;
}

/** The environments whose gates a kind replaces: those it names, else the last one (production). */
function appliesTo(config: Config, kind: ReleaseKindConfig): string[] {
  return kind.appliesTo ?? [config.environments.at(-1)?.name ?? ''];
}

/** The environment as a deploy of this kind sees it: the kind's approvals and checklist where the kind applies. */
export function envForKind(config: Config, env: EnvironmentConfig, kindName: string | undefined): EnvironmentConfig {
  const kind = kindRules(config, kindName);
  if (!kind || (!kind.approvals && !kind.checklist) || !appliesTo(config, kind).includes(env.name)) return env;
  return { ...env, ...(kind.approvals ? { approvals: kind.approvals } : {}), ...(kind.checklist ? { checklist: kind.checklist } : {}) };
}

/** One line per rule of the kind, e.g. "approvals: 2 from Senior Engineer, Security Team (on production)". */
export function kindRuleLines(config: Config, kindName: string): string[] {
  const kind = kindRules(config, kindName);
  if (!kind) return [];
  const where = appliesTo(config, kind).join(', ');
  const lines: string[] = [];
  if (kind.approvals) lines.push(`approvals: ${kind.approvals.required} from ${kind.approvals.roles.map((r) => roleLabel(config, r)).join(', ')}${kind.approvals.requireRoles.length ? ` (must include ${kind.approvals.requireRoles.map((r) => roleLabel(config, r)).join(' and ')})` : ''} on ${where}`);
  if (kind.checklist) lines.push(`checklist: ${kind.checklist.map((s) => s.section).join(', ')} (${kind.checklist.reduce((n, s) => n + s.items.length, 0)} items) on ${where}`);
  lines.push(kind.canary ? 'canary rollout in production' : 'no canary');
  if (kind.maySkip.length) lines.push(`may skip ${kind.maySkip.join(', ')}`);
  if (kind.deadline) lines.push(`deadline: production within ${ms(kind.deadline, { long: true })} of the request`);
  return lines;
}

/** "Hotfix release rules (kind hotfix, from /hotfix): …; why." — for the gate message and replies. */
export function kindSummary(config: Config, kindName: string, from: string): string {
  const kind = kindRules(config, kindName);
  if (!kind) return '';
  return `*${kindLabel(config, kindName)}* rules (release kind \`${kindName}\`, ${from}): ${kindRuleLines(config, kindName).join('; ')}.${kind.why ? ` Why: ${kind.why}` : ''}`;
}
