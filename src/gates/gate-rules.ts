// Gate rules as pure functions: checklist ticks, approvals (roles, distinct roles, separation of
// duties, expiry) and whether a pending deploy may start. No I/O here; gate-service.ts does that.
import type { EnvironmentConfig } from '../core/config.js';

export interface ItemState {
  checked: boolean;
  by?: string;
  at?: number;
  /** Ticked (or left unticked) by an automatic check; `reason` says what it saw. */
  auto?: boolean;
  reason?: string;
  /** The automatic check is running now. */
  checking?: boolean;
}

export interface Approval {
  user: string;
  role: string;
  at: number;
}

export interface GateState {
  items: Record<string, ItemState>;
  approvals: Approval[];
  expired: Array<Approval & { expiredAt: number }>;
  rejected?: { user: string; reason: string; at: number };
  /** Withdrawn while pending (by its requester or an approver), with the reason they gave. */
  withdrawn?: { user: string; reason: string; at: number };
  metAt?: number;
  /** The channel message that shows the checklist and sign-offs. */
  gateTs?: string;
  page: number;
  /** Roles that must be among the approvals of this deploy (config requireRoles, plus sensitiveRequires if marked sensitive). */
  requiredRoles?: string[];
  sensitive?: boolean;
  postDeploySignoff?: { user: string; role: string; at: number };
}

export function hasGates(env: EnvironmentConfig): boolean {
  return env.checklist.length > 0 || env.approvals !== undefined;
}

export function initialGates(env: EnvironmentConfig, opts: { sensitive?: boolean } = {}): GateState {
  const items: Record<string, ItemState> = {};
  for (const section of env.checklist) for (const item of section.items) items[item.id] = { checked: false, checking: item.check ? true : undefined };
  const rules = env.approvals;
  const requiredRoles = rules ? [...new Set([...rules.requireRoles, ...(opts.sensitive ? rules.sensitiveRequires : [])])] : [];
  return { items, approvals: [], expired: [], page: 0, ...(requiredRoles.length ? { requiredRoles } : {}), ...(opts.sensitive ? { sensitive: true } : {}) };
}

/** Required roles that have not approved yet. */
export function missingRoles(gates: GateState): string[] {
  return (gates.requiredRoles ?? []).filter((r) => !gates.approvals.some((a) => a.role === r));
}

export function allItems(env: EnvironmentConfig) {
  return env.checklist.flatMap((section) => section.items.map((item) => ({ ...item, section: section.section })));
}

/** Moves approvals older than the environment's expiry out of the valid list. Returns what expired. */
export function dropExpired(env: EnvironmentConfig, gates: GateState, now: number): Approval[] {
  const ttl = env.approvals?.expiresAfter;
  if (!ttl) return [];
  const expired = gates.approvals.filter((a) => now - a.at >= ttl);
  if (expired.length === 0) return [];
  gates.approvals = gates.approvals.filter((a) => now - a.at < ttl);
  gates.expired.push(...expired.map((a) => ({ ...a, expiredAt: now })));
  return expired;
}

export interface GateSummary {
  missingItems: Array<{ id: string; text: string; section: string; auto: boolean; reason?: string }>;
  approvalsNeeded: number;
  met: boolean;
}

export function summarize(env: EnvironmentConfig, gates: GateState): GateSummary {
  const missingItems = allItems(env)
    .filter((item) => item.required && !gates.items[item.id]?.checked)
    .map((item) => ({ id: item.id, text: item.text, section: item.section, auto: item.check !== undefined, reason: gates.items[item.id]?.reason }));
  const approvalsNeeded = Math.max(0, (env.approvals?.required ?? 0) - gates.approvals.length, missingRoles(gates).length);
  return { missingItems, approvalsNeeded, met: missingItems.length === 0 && approvalsNeeded === 0 && !gates.rejected };
}

/** Why `user` may not approve as `role` now, or undefined when the approval counts. */
/** `noun` names what is approved in the answers ('deploy' by default; 'flag change' for a flag's sign-off). */
export function approvalProblem(env: EnvironmentConfig, gates: GateState, requester: string, user: string, role: string, held: Set<string>, roleName: (r: string) => string, noun = 'deploy'): string | undefined {
  const rules = env.approvals;
  if (!rules) return `${noun === 'deploy' ? 'Deploys' : `A ${noun}`} to ${env.name} need${noun === 'deploy' ? '' : 's'} no approvals.`;
  if (!rules.roles.includes(role)) return `${roleName(role)} is not a sign-off role for ${env.name}.`;
  if (!held.has(role)) return `You do not hold the ${roleName(role)} role, so you cannot approve as ${roleName(role)}.`;
  if (user === requester && !rules.allowRequester) return `You requested this ${noun}, so you cannot approve it: someone else has to (separation of duties).`;
  const mine = gates.approvals.find((a) => a.user === user);
  if (mine) return mine.role === role ? `You already approved as ${roleName(role)}.` : `You already approved as ${roleName(mine.role)}; one person counts once.`;
  if (rules.distinctRoles && gates.approvals.some((a) => a.role === role)) {
    return `${roleName(role)} has already signed; this ${noun} needs its other sign-offs from different roles.`;
  }
  const missing = missingRoles(gates);
  if (gates.approvals.length >= rules.required && missing.length === 0) return `This ${noun} already has all the approvals it needs.`;
  // The remaining approvals are reserved for the roles that must still sign.
  if (!missing.includes(role) && rules.required - gates.approvals.length <= missing.length) {
    return `The remaining approval${missing.length === 1 ? '' : 's'} must come from ${missing.map(roleName).join(' and ')}${gates.sensitive ? ' (a sensitive change)' : ''}.`;
  }
  return undefined;
}

/**
 * The one tick or untick a checkbox click means: Slack sends the element's whole selection, so compare it
 * with what the clicker's message showed (its initial options), not with the stored state — two people
 * ticking different items at once must both count.
 */
export function checkboxDelta(shown: readonly string[], selected: readonly string[]): Array<{ id: string; checked: boolean }> {
  const before = new Set(shown);
  const after = new Set(selected);
  return [
    ...[...after].filter((id) => !before.has(id)).map((id) => ({ id, checked: true })),
    ...[...before].filter((id) => !after.has(id)).map((id) => ({ id, checked: false })),
  ];
}
