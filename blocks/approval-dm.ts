// The approval request an approver gets by DM: one message per approver and deploy, edited as the deploy moves
// (approved, rejected with the reason, withdrawn, expired, started, finished) so it never asks for a sign-off
// that is no longer needed.
import type { DeployRecord } from '../src/deploys/deploy-store.js';
import { escapeMrkdwn, mention, truncate } from './format.js';

export function approvalDmText(d: DeployRecord, user: string, roleName: (role: string) => string, opts: { gateLink?: string } = {}): string {
  const g = d.gates;
  const what = `deploy #${d.id}: \`${escapeMrkdwn(d.version)}\` → *${escapeMrkdwn(d.env)}*`;
  const open = opts.gateLink ? ` <${opts.gateLink}|Open the gate message>` : '';
  const approvals = g?.approvals ?? [];
  const signed = approvals.length ? ` Approved by ${approvals.map((a) => `${mention(a.user)} (${roleName(a.role)})`).join(', ')}.` : '';
  if (g?.rejected) return `:no_entry: ${mention(d.requestedBy)}'s ${what} was *rejected* by ${mention(g.rejected.user)}: ${escapeMrkdwn(truncate(g.rejected.reason, 1500))}. Nothing to sign.`;
  if (g?.withdrawn) return `:no_entry_sign: ${mention(d.requestedBy)}'s ${what} was *withdrawn* by ${mention(g.withdrawn.user)}: ${escapeMrkdwn(truncate(g.withdrawn.reason, 1500))}. Nothing to sign.`;
  if (d.status === 'pending') {
    const mine = approvals.find((a) => a.user === user);
    const expired = (g?.expired ?? []).filter((e) => !approvals.some((a) => a.user === e.user && a.role === e.role));
    const lapsed = expired.length ? ` :hourglass: Expired: ${expired.map((e) => `${mention(e.user)}'s approval as ${roleName(e.role)}`).join(', ')} — it needs signing again.` : '';
    if (mine) return `:white_check_mark: You approved ${mention(d.requestedBy)}'s ${what} as ${roleName(mine.role)}.${signed}${lapsed} It starts once its other gates are met.${open}`;
    return `${mention(d.requestedBy)} asks for your sign-off on ${what}.${signed}${lapsed}${open} You can also approve from Shipmate's Home tab.`;
  }
  const state: Record<string, string> = {
    queued: 'is queued', running: 'is running', succeeded: 'succeeded', failed: 'failed', cancelled: 'was cancelled', interrupted: 'was interrupted', rejected: 'was rejected',
  };
  const icon = d.status === 'succeeded' ? ':white_check_mark:' : d.status === 'failed' || d.status === 'interrupted' ? ':x:' : d.status === 'cancelled' ? ':no_entry_sign:' : ':arrows_counterclockwise:';
  const cancelled = d.status === 'cancelled' && d.cancelledBy ? ` by ${mention(d.cancelledBy)}` : '';
  return `${icon} ${mention(d.requestedBy)}'s ${what} ${g?.metAt ? 'has all its sign-offs and ' : ''}${state[d.status] ?? d.status}${cancelled}.${signed} Nothing to sign.`;
}
