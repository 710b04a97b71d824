// The gate message of a pending deploy: the checklist (grouped as the config groups it, paged to stay
// inside Block Kit's limits), the sign-offs given and still needed, and the buttons to act.
import type { KnownBlock } from '@slack/types';
import ms from 'ms';
import type { EnvironmentConfig } from '../src/core/config.js';
import type { DeployRecord } from '../src/deploys/deploy-store.js';
import { missingRoles, summarize, type GateSummary } from '../src/gates/gate-rules.js';
import { ACTIONS, approveValue, checklistBlockId } from './action-ids.js';
import { codeVersion, escapeMrkdwn, mention, plural, slackDate, truncate, versionLabel } from './format.js';

const MAX_OPTIONS = 10;
/** Blocks a page of checklist sections may use; the rest of the message needs at most ~12. */
const PAGE_BUDGET = 36;

type Roles = (role: string) => string;

/**
 * What a pending deploy still waits for, in words shared by the /deploy reply, the gate message and the Home tab.
 * Items to tick by hand and automatic checks are counted apart, so the numbers agree whether or not a check has run.
 */
export function waitingFor(summary: GateSummary): string {
  const manual = summary.missingItems.filter((m) => !m.auto).length;
  const auto = summary.missingItems.length - manual;
  const parts = [
    manual ? plural(manual, 'checklist item') : '',
    auto ? plural(auto, 'automatic check') : '',
    summary.approvalsNeeded ? plural(summary.approvalsNeeded, 'approval') : '',
  ].filter(Boolean);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0] ?? 'nothing';
}

/** Checklist sections split into pages that each fit the block budget. */
export function checklistPages(env: EnvironmentConfig): number[][] {
  const pages: number[][] = [[]];
  let used = 0;
  env.checklist.forEach((section, i) => {
    const manual = section.items.filter((it) => !it.check).length;
    const cost = 1 + Math.ceil(manual / MAX_OPTIONS) + (section.items.length > manual ? 1 : 0);
    if (used + cost > PAGE_BUDGET && (pages.at(-1)?.length ?? 0) > 0) {
      pages.push([]);
      used = 0;
    }
    pages.at(-1)?.push(i);
    used += cost;
  });
  return pages;
}

function checklistBlocks(d: DeployRecord, env: EnvironmentConfig, page: number, forHome: boolean): KnownBlock[] {
  const gates = d.gates;
  if (!gates) return [];
  const blocks: KnownBlock[] = [];
  const pages = checklistPages(env);
  const sections = pages[Math.min(page, pages.length - 1)] ?? [];
  let n = 0;
  for (const i of sections) {
    const section = env.checklist[i];
    if (!section) continue;
    const done = section.items.filter((it) => gates.items[it.id]?.checked).length;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(section.section)}* — ${done}/${section.items.length}${done === section.items.length ? ' :white_check_mark:' : ''}` } });
    const manual = section.items.filter((it) => !it.check);
    for (let start = 0; start < manual.length; start += MAX_OPTIONS) {
      const chunk = manual.slice(start, start + MAX_OPTIONS);
      const options = chunk.map((it) => {
        const state = gates.items[it.id];
        // Option descriptions are plain text (no mentions), so who ticked it goes into the mrkdwn text. No time here:
        // option text holds 75 characters and a date token would eat half of them (the time is in the audit trail).
        const who = state?.checked && state.by ? ` — ${mention(state.by)}` : '';
        const text = `${truncate(escapeMrkdwn(it.text), 75 - who.length)}${who}`;
        const description = it.text.length > 75 - who.length ? truncate(it.text, 75) : it.required ? 'required' : 'optional';
        return { text: { type: 'mrkdwn' as const, text }, description: { type: 'plain_text' as const, text: description }, value: it.id };
      });
      const initial = options.filter((o) => gates.items[o.value]?.checked);
      blocks.push({
        type: 'actions',
        block_id: checklistBlockId(d.id, forHome ? 1000 + n++ : n++),
        elements: [{ type: 'checkboxes', action_id: ACTIONS.tickChecklist, options, ...(initial.length ? { initial_options: initial } : {}) }],
      });
    }
    const auto = section.items.filter((it) => it.check);
    if (auto.length) {
      const lines = auto.map((it) => {
        const s = gates.items[it.id];
        const icon = s?.checked ? ':white_check_mark:' : s?.checking ? ':hourglass:' : ':x:';
        const why = s?.checked ? `ticked by Shipmate: ${s.reason ?? 'check passed'}` : s?.checking ? 'checking…' : `check failed: ${s?.reason ?? 'not run yet'}`;
        return `${icon} ${escapeMrkdwn(truncate(it.text, 120))} — _${escapeMrkdwn(truncate(why, 200))}_`;
      });
      blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(lines.join('\n'), 2900) }] });
    }
  }
  return blocks;
}

/** What is approved, as far as the sign-off text needs it: a deploy record, or another gated change (a flag change). */
export type Signable = Pick<DeployRecord, 'gates' | 'requestedBy'>;

/** The sign-offs given and still needed, shared by the deploy gate message and the flag sign-off message. */
export function signoffText(d: Signable, env: EnvironmentConfig, roleName: Roles): string {
  const rules = env.approvals;
  const gates = d.gates;
  if (!rules || !gates) return '';
  const lines = gates.approvals.map((a) => `:white_check_mark: ${roleName(a.role)} — ${mention(a.user)} ${slackDate(a.at)}`);
  for (const e of gates.expired.slice(-5)) lines.push(`:hourglass: ${mention(e.user)}'s approval as ${roleName(e.role)} expired ${slackDate(e.expiredAt)} — approve again`);
  const need = summarize(env, gates).approvalsNeeded;
  const mustSign = missingRoles(gates);
  if (mustSign.length) lines.push(`:lock: Must include ${mustSign.map(roleName).join(' and ')}${gates.sensitive ? ' — marked as a sensitive change' : ''}`);
  if (need > 0) {
    const open = openRoles(d, env);
    lines.push(`:hourglass: ${need} more from ${open.map(roleName).join(', ')}${rules.distinctRoles ? ' (each from a different role)' : ''}`);
  }
  const extra = [rules.allowRequester ? '' : `${mention(d.requestedBy)} asked for it and cannot approve it`, rules.expiresAfter ? `approvals expire after ${ms(rules.expiresAfter, { long: true })}` : '']
    .filter(Boolean)
    .join(' · ');
  return `*Sign-offs* — ${gates.approvals.length} of ${rules.required}\n${lines.join('\n')}${extra ? `\n_${extra}_` : ''}`;
}

/** Roles whose approval would still count: not already used (distinct roles) and not crowded out by required roles. */
export function openRoles(d: Signable, env: EnvironmentConfig): string[] {
  const rules = env.approvals;
  const gates = d.gates;
  if (!rules || !gates) return [];
  const missing = missingRoles(gates);
  const reserved = rules.required - gates.approvals.length <= missing.length;
  return rules.roles
    .filter((r) => !(rules.distinctRoles && gates.approvals.some((a) => a.role === r)))
    .filter((r) => !reserved || missing.includes(r));
}

function approveButtons(d: DeployRecord, env: EnvironmentConfig, roleName: Roles, onlyRoles?: ReadonlySet<string>): Array<Record<string, unknown>> {
  const rules = env.approvals;
  const gates = d.gates;
  if (!rules || !gates || summarize(env, gates).approvalsNeeded === 0) return [];
  return openRoles(d, env)
    .filter((r) => !onlyRoles || onlyRoles.has(r))
    .slice(0, 20)
    .map((role) => ({ type: 'button', action_id: `${ACTIONS.approve}:${role}`, text: { type: 'plain_text', text: truncate(`Approve as ${roleName(role)}`, 75) }, style: 'primary', value: approveValue(d.id, role) }));
}

export function gateTitle(d: DeployRecord): string {
  return `Gates for deploy #${d.id} · ${versionLabel(d)} → ${d.env}`;
}

export function gateMessageBlocks(d: DeployRecord, env: EnvironmentConfig, roleName: Roles, opts: { statusLink?: string; rules?: string } = {}): { text: string; blocks: KnownBlock[] } {
  const gates = d.gates;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(`🧾 ${gateTitle(d)}`, 150), emoji: true } }];
  // Which rules apply and why, when a release kind (not the environment) sets them.
  if (opts.rules) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(opts.rules, 2000) }] });
  if (!gates) return { text: gateTitle(d), blocks };
  const summary = summarize(env, gates);
  const ticked = Object.values(gates.items).filter((s) => s.checked).length;
  const total = Object.keys(gates.items).length;
  const approvedBy = gates.approvals.map((a) => `${mention(a.user)} (${roleName(a.role)})`).join(', ');

  if (d.status !== 'pending') {
    let head: string;
    if (gates.rejected) head = `:no_entry: *Rejected* by ${mention(gates.rejected.user)} ${slackDate(gates.rejected.at)}: ${escapeMrkdwn(truncate(gates.rejected.reason, 1500))}`;
    else if (gates.withdrawn) head = `:no_entry_sign: *Withdrawn* by ${mention(gates.withdrawn.user)} ${slackDate(gates.withdrawn.at)} before its gates were met: ${escapeMrkdwn(truncate(gates.withdrawn.reason, 1500))}`;
    else if (gates.metAt) head = `:white_check_mark: *All gates met* ${slackDate(gates.metAt)} — deploy #${d.id} ${d.status === 'queued' || d.status === 'running' ? 'is running' : `is ${d.status}`}${opts.statusLink ? `: <${opts.statusLink}|status message>` : ' (see its status message)'}.`;
    else head = `:no_entry_sign: *Cancelled*${d.cancelledBy ? ` by ${mention(d.cancelledBy)}` : ''} before its gates were met.`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: head } });
    const trail = [total ? `Checklist ${ticked}/${total}` : '', approvedBy ? `approved by ${approvedBy}` : '', `requested by ${mention(d.requestedBy)}`].filter(Boolean).join(' · ');
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(trail, 2900) }] });
    return { text: `${gateTitle(d)}: ${gates.rejected ? 'rejected' : gates.withdrawn ? 'withdrawn' : gates.metAt ? 'all gates met' : 'cancelled'}`, blocks };
  }

  const waiting = waitingFor(summary);
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: `${mention(d.requestedBy)} wants to deploy ${codeVersion(d)} to *${escapeMrkdwn(d.env)}*. It starts by itself once its gates are met.\n:hourglass: Waiting for ${waiting}.` },
  });
  const pages = checklistPages(env);
  const page = Math.min(gates.page, pages.length - 1);
  if (env.checklist.length) {
    blocks.push({ type: 'divider' });
    blocks.push(...checklistBlocks(d, env, page, false));
  }
  const nav: Array<Record<string, unknown>> = [];
  if (pages.length > 1) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Checklist page ${page + 1} of ${pages.length}` }] });
    if (page > 0) nav.push({ type: 'button', action_id: `${ACTIONS.gatePage}:prev`, text: { type: 'plain_text', text: '◀ Previous sections' }, value: `${d.id}:${page - 1}` });
    if (page < pages.length - 1) nav.push({ type: 'button', action_id: `${ACTIONS.gatePage}:next`, text: { type: 'plain_text', text: 'Next sections ▶' }, value: `${d.id}:${page + 1}` });
  }
  if (env.approvals) {
    blocks.push({ type: 'divider' });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(signoffText(d, env, roleName), 2900) } });
  }
  const failedChecks = Object.values(gates.items).some((s) => s.auto && !s.checked && !s.checking);
  const buttons = [
    ...approveButtons(d, env, roleName),
    ...(env.approvals ? [{ type: 'button', action_id: ACTIONS.reject, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: d.id }] : []),
    ...(failedChecks ? [{ type: 'button', action_id: ACTIONS.rerunChecks, text: { type: 'plain_text', text: 'Re-run checks' }, value: d.id }] : []),
    ...nav,
    // Withdraw asks for a reason in a modal, which is its confirmation.
    { type: 'button', action_id: ACTIONS.withdrawDeploy, text: { type: 'plain_text', text: 'Withdraw' }, value: d.id },
  ];
  blocks.push({ type: 'actions', block_id: `gate_actions_${d.id}`, elements: buttons.slice(0, 25) as never });
  return { text: `${gateTitle(d)}: waiting for ${waiting}`, blocks };
}

/** The checklist and sign-off buttons for one pending deploy, for the App Home tab. */
export function homeGateBlocks(d: DeployRecord, env: EnvironmentConfig, roleName: Roles, opts: { canApprove: boolean; canTick: boolean; heldRoles?: ReadonlySet<string> }): KnownBlock[] {
  const gates = d.gates;
  if (!gates) return [];
  const summary = summarize(env, gates);
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*Deploy #${d.id}* · ${codeVersion(d)} → *${escapeMrkdwn(d.env)}* by ${mention(d.requestedBy)}\nWaiting for ${waitingFor(summary)}.` } },
  ];
  if (opts.canTick && summary.missingItems.some((m) => !m.auto)) blocks.push(...checklistBlocks(d, env, gates.page, true).filter((b) => b.type === 'actions'));
  if (opts.canApprove) {
    // On the Home tab each person sees only the roles they hold (the channel message shows them all).
    const buttons = approveButtons(d, env, roleName, opts.heldRoles);
    if (buttons.length) blocks.push({ type: 'actions', block_id: `home_approve_${d.id}`, elements: [...buttons, { type: 'button', action_id: ACTIONS.reject, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: d.id }] as never });
  }
  return blocks;
}

/** The reject modal: asks for the reason (required, so the requester learns why). */
export function rejectModal(d: DeployRecord, callbackId: string, blockId: string, actionId: string) {
  return reasonModal(d, { callbackId, blockId, actionId, verb: 'Reject', question: 'Why are you rejecting it?', placeholder: 'e.g. the migration has no rollback script yet', effect: 'The deploy will not run; they are told your reason.' });
}

/** The withdraw modal: the reason goes into the gate message's thread and the deploy log. */
export function withdrawModal(d: DeployRecord, callbackId: string, blockId: string, actionId: string) {
  return reasonModal(d, { callbackId, blockId, actionId, verb: 'Withdraw', question: 'Why are you withdrawing it?', placeholder: 'e.g. found a bug on staging, a fixed version follows', effect: 'The deploy is dropped; its ticks and sign-offs stay in the log, and the reason is posted in its thread.' });
}

function reasonModal(d: DeployRecord, o: { callbackId: string; blockId: string; actionId: string; verb: string; question: string; placeholder: string; effect: string }) {
  return {
    type: 'modal' as const,
    callback_id: o.callbackId,
    private_metadata: d.id,
    title: { type: 'plain_text' as const, text: truncate(`${o.verb} deploy #${d.id}`, 24) },
    submit: { type: 'plain_text' as const, text: o.verb },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${codeVersion(d)} → *${escapeMrkdwn(d.env)}*, requested by ${mention(d.requestedBy)}. ${o.effect}` } },
      { type: 'input', block_id: o.blockId, label: { type: 'plain_text', text: o.question }, element: { type: 'plain_text_input', action_id: o.actionId, multiline: true, min_length: 5, max_length: 1000, placeholder: { type: 'plain_text', text: o.placeholder } } },
    ] as KnownBlock[],
  };
}
