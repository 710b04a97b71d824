// Block Kit for feature flags: the flag card (state per environment, buttons that step a percentage), the
// list, the history, the change / kill / sign-off messages and the create and kill modals. Pure: no Slack calls.
import type { KnownBlock } from '@slack/types';
import type { Flag, EnvFlagState } from '../src/flags/evaluation.js';
import type { FlagHistoryEntry } from '../src/flags/flag-store.js';
import { formatDistanceStrict } from 'date-fns';
import type { EnvironmentConfig } from '../src/core/config.js';
import { summarize } from '../src/gates/gate-rules.js';
import type { GatedChange } from '../src/gates/subject-gates.js';
import { escapeMrkdwn, mention, plural, slackDate, truncate } from './format.js';
import { openRoles, signoffText } from './gate-message.js';

export const FLAG_ACTIONS = {
  /** Prefix of the step buttons' ids: `shipmate_flag_step:<env>:up|down` (ids are unique within a message). */
  step: 'shipmate_flag_step',
  /** Prefix of the approve buttons' ids on the sign-off message: `shipmate_flag_approve:<role>`, value `<id>:<role>`. */
  approve: 'shipmate_flag_approve',
  reject: 'shipmate_flag_reject',
} as const;
export const FLAG_VIEWS = { create: 'shipmate_flag_create', kill: 'shipmate_flag_kill', reject: 'shipmate_flag_reject_reason' } as const;
export const FLAG_REJECT_REASON = { block: 'flag_reject_reason', input: 'flag_reject_reason_input' } as const;
export const FLAG_CREATE_BLOCKS = { key: 'flag_key', type: 'flag_type', description: 'flag_description' } as const;
export const FLAG_KILL_REASON = { block: 'flag_kill_reason', input: 'flag_kill_reason_input' } as const;
/** The percentages the card's buttons step through. */
export const ROLLOUT_STEPS = [0, 1, 5, 10, 25, 50, 100] as const;

export function stepActionId(env: string, dir: 'up' | 'down'): string {
  return `${FLAG_ACTIONS.step}:${env}:${dir}`;
}

/** A step button's value: flag, environment, target percentage, and the flag revision the card shows (a double click applies once). */
export function stepValue(v: { key: string; env: string; to: number; rev: number }): string {
  return `${v.key}|${v.env}|${v.to}|${v.rev}`;
}

export function parseStepValue(value: string | undefined): { key: string; env: string; to: number; rev: number } | undefined {
  const m = /^([A-Za-z][\w.-]{0,63})\|([a-z][a-z0-9_-]{0,63})\|(\d{1,3})\|(\d{1,9})$/.exec(value ?? '');
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) return undefined;
  const to = Number(m[3]);
  return to <= 100 ? { key: m[1], env: m[2], to, rev: Number(m[4]) } : undefined;
}

function stateWords(flag: Flag, s: EnvFlagState | undefined): string {
  if (!s?.enabled) return s?.killed ? `:octagonal_sign: off (killed: ${escapeMrkdwn(s.killed.reason)})` : ':white_circle: off';
  if (flag.valueType !== 'boolean') return `:large_green_circle: on = \`${escapeMrkdwn(truncate(JSON.stringify(s.value ?? flag.defaultValue), 200))}\``;
  return s.percentage !== undefined && s.percentage < 100 ? `:large_yellow_circle: ${s.percentage}%` : ':large_green_circle: on';
}

function percentOf(s: EnvFlagState | undefined): number {
  return !s?.enabled ? 0 : (s.percentage ?? 100);
}

/** `/flag <key>`: type, owner, age, last change, and per environment its state (with step buttons for boolean flags). */
export function flagCard(flag: Flag, envs: readonly string[], now: number, last?: FlagHistoryEntry): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Flag ${flag.key}`, 150) } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `${escapeMrkdwn(flag.description)}\n*Type:* ${escapeMrkdwn(flag.type)} (${flag.valueType}) · *Owner:* ${mention(flag.owner)} · *Age:* ${formatDistanceStrict(flag.createdAt, now)} (created ${slackDate(flag.createdAt)})${flag.archived ? ' · *archived*' : ''}` },
    },
  ];
  for (const env of envs) {
    const s = flag.envs[env];
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(env)}*: ${stateWords(flag, s)}${s ? ` — ${mention(s.changedBy)}, ${slackDate(s.changedAt)}` : ''}` } });
    if (flag.valueType === 'boolean' && !flag.archived) {
      const now = percentOf(s);
      const up = ROLLOUT_STEPS.find((p) => p > now);
      const down = [...ROLLOUT_STEPS].reverse().find((p) => p < now);
      const buttons = [
        ...(down !== undefined ? [{ to: down, dir: 'down', label: down === 0 ? 'Off' : `↓ ${down}%` }] : []),
        ...(up !== undefined ? [{ to: up, dir: 'up', label: up === 100 ? 'On (100%)' : `↑ ${up}%` }] : []),
      ];
      blocks.push({
        type: 'actions',
        block_id: `flag_env_${env}`,
        elements: buttons.map((b) => ({ type: 'button' as const, action_id: stepActionId(env, b.dir as 'up' | 'down'), text: { type: 'plain_text' as const, text: b.label }, value: stepValue({ key: flag.key, env, to: b.to, rev: flag.rev }) })),
      });
    }
  }
  if (last) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Last change: ${historyLine(last)}` }] });
  return { text: `Flag ${flag.key}: ${envs.map((e) => `${e} ${percentOf(flag.envs[e])}%`).join(', ')}`, blocks };
}

/** `/flag list [env]`: one line per flag. */
export function flagList(flags: readonly Flag[], envs: readonly string[]): string {
  if (flags.length === 0) return 'No flags yet. Create one: `/flag create <key> <type> "<description>"`.';
  return [`*Flags* (${envs.join(', ')}):`, ...flags.map((f) => `• \`${f.key}\` (${escapeMrkdwn(f.type)}) — ${envs.map((e) => `${escapeMrkdwn(e)}: ${stateWords(f, f.envs[e]).replace(/^:[a-z_]+: /, '')}`).join(' · ')}`)].join('\n');
}

export function historyLine(e: FlagHistoryEntry): string {
  const change = e.before !== undefined || e.after !== undefined ? ` ${escapeMrkdwn(e.before ?? '—')} → ${escapeMrkdwn(e.after ?? '—')}` : '';
  return `${slackDate(e.at)} · ${mention(e.user)} · ${e.action}${e.env ? ` in *${escapeMrkdwn(e.env)}*` : ''}${change}${e.reason ? ` — _${escapeMrkdwn(truncate(e.reason, 300))}_` : ''}`;
}

export function flagHistory(key: string, entries: readonly FlagHistoryEntry[]): string {
  if (entries.length === 0) return `\`${key}\` has no history yet.`;
  return [`*History of \`${key}\`* (newest first):`, ...entries.map((e) => `• ${historyLine(e)}`)].join('\n');
}

/** Posted in the environment's channel when a flag changes. */
export function flagChangeMessage(flag: Flag, env: string, e: FlagHistoryEntry): { text: string; blocks: KnownBlock[] } {
  const text = `Flag ${flag.key} in ${env}: ${e.before ?? '—'} → ${e.after ?? '—'} (by ${e.user})`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:triangular_flag_on_post: *\`${escapeMrkdwn(flag.key)}\`* in *${escapeMrkdwn(env)}*: ${escapeMrkdwn(e.before ?? '—')} → *${escapeMrkdwn(e.after ?? '—')}* — ${mention(e.user)}${e.reason ? `\n_${escapeMrkdwn(truncate(e.reason, 500))}_` : ''}` } }] };
}

/** The kill switch's notice to the environment's stakeholders. */
export function flagKillNotice(flag: Flag, env: string, e: FlagHistoryEntry): { text: string; blocks: KnownBlock[] } {
  return {
    text: `Kill switch: ${flag.key} switched off in ${env} — ${e.reason ?? ''}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(`Kill switch: ${flag.key} off in ${env}`, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: `${mention(e.user)} switched *\`${escapeMrkdwn(flag.key)}\`* off in *${escapeMrkdwn(env)}* (was ${escapeMrkdwn(e.before ?? '—')}). It took effect at once.\n*Reason:* ${escapeMrkdwn(truncate(e.reason ?? '', 1000))}` } },
    ],
  };
}

/** Approve buttons carry "<gated change id>:<role>". */
export function flagApproveValue(id: string, role: string): string {
  return `${id}:${role}`;
}

export function parseFlagApproveValue(value: string | undefined): { id: string; role: string } | undefined {
  const m = /^([0-9a-f-]{36}):([a-z][a-z0-9_-]{0,63})$/.exec(value ?? '');
  return m?.[1] && m[2] ? { id: m[1], role: m[2] } : undefined;
}

type SignoffPayload = { key: string; type: string; change: { kind: string; percentage?: number; text?: string }; reason?: string };

/**
 * The sign-off message of a production flag change, in the deploy gate message's style: who asks for what, the
 * sign-offs given and still needed (the same text as deploys), Approve-as-role and Reject buttons; once met or
 * rejected, what came of it and no buttons.
 */
export function flagSignoffMessage(g: GatedChange<SignoffPayload>, env: EnvironmentConfig, roleName: (r: string) => string): { text: string; blocks: KnownBlock[] } {
  const p = g.payload;
  const what = changeLabel(p.change);
  const title = `Sign-off for flag ${p.key}: ${what} in ${g.env}`;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(`🧾 ${title}`, 150), emoji: true } }];
  const ask = `${mention(g.requestedBy)} asks to set *\`${escapeMrkdwn(p.key)}\`* (${escapeMrkdwn(p.type)}) to *${escapeMrkdwn(what)}* in *${escapeMrkdwn(g.env)}*${p.reason ? ` — _${escapeMrkdwn(truncate(p.reason, 300))}_` : ''}.`;
  if (g.status !== 'pending') {
    const head = g.gates.rejected
      ? `:no_entry: *Rejected* by ${mention(g.gates.rejected.user)} ${slackDate(g.gates.rejected.at)}: ${escapeMrkdwn(truncate(g.gates.rejected.reason, 1500))}`
      : `:white_check_mark: *Signed off* ${g.gates.metAt ? slackDate(g.gates.metAt) : ''} — ${escapeMrkdwn(g.outcome ?? 'applying…')}`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${head}\n${ask}` } });
    const by = g.gates.approvals.map((a) => `${mention(a.user)} (${escapeMrkdwn(roleName(a.role))})`).join(', ');
    if (by) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`approved by ${by}`, 2900) }] });
    return { text: `${title}: ${g.gates.rejected ? 'rejected' : (g.outcome ?? 'signed off')}`, blocks };
  }
  const need = summarize(env, g.gates).approvalsNeeded;
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${ask} It takes effect once signed off.\n:hourglass: Waiting for ${plural(need, 'approval')}.` } });
  blocks.push({ type: 'divider' });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(signoffText(g, env, roleName), 2900) } });
  const buttons = [
    ...openRoles(g, env).slice(0, 20).map((role) => ({ type: 'button' as const, action_id: `${FLAG_ACTIONS.approve}:${role}`, style: 'primary' as const, text: { type: 'plain_text' as const, text: truncate(`Approve as ${roleName(role)}`, 75) }, value: flagApproveValue(g.id, role) })),
    { type: 'button' as const, action_id: FLAG_ACTIONS.reject, style: 'danger' as const, text: { type: 'plain_text' as const, text: 'Reject' }, value: g.id },
  ];
  blocks.push({ type: 'actions', block_id: `flag_signoff_${g.id}`, elements: buttons });
  return { text: `${title}: waiting for ${plural(need, 'approval')}`, blocks };
}

/** The reject modal: asks why, like a deploy's. */
export function rejectFlagModal(g: GatedChange<SignoffPayload>) {
  return {
    type: 'modal' as const,
    callback_id: FLAG_VIEWS.reject,
    private_metadata: g.id,
    title: { type: 'plain_text' as const, text: 'Reject flag change' },
    submit: { type: 'plain_text' as const, text: 'Reject' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `\`${escapeMrkdwn(g.payload.key)}\` → *${escapeMrkdwn(changeLabel(g.payload.change))}* in *${escapeMrkdwn(g.env)}*, asked by ${mention(g.requestedBy)}. Nothing will change; they are told your reason.` } },
      { type: 'input', block_id: FLAG_REJECT_REASON.block, label: { type: 'plain_text', text: 'Why are you rejecting it?' }, element: { type: 'plain_text_input', action_id: FLAG_REJECT_REASON.input, multiline: true, min_length: 5, max_length: 1000 } },
    ] as KnownBlock[],
  };
}

function changeLabel(c: { kind: string; percentage?: number; text?: string }): string {
  return c.kind === 'percent' ? `${c.percentage}%` : c.kind === 'set' ? `= ${c.text ?? ''}` : c.kind;
}

/** Removal candidates, posted weekly. */
export function staleFlagsMessage(items: ReadonlyArray<{ flag: Flag; since: number }>): { text: string; blocks: KnownBlock[] } {
  const text = `${items.length} flag(s) fully on everywhere: candidates for removal`;
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: [`:broom: *Flags fully on in every environment* — remove them from the code, then \`/flag archive <key>\`:`, ...items.map((i) => `• \`${escapeMrkdwn(i.flag.key)}\` (${escapeMrkdwn(i.flag.type)}, owner ${mention(i.flag.owner)}) — fully on since ${slackDate(i.since)}`)].join('\n') } }],
  };
}

export function createFlagModal(types: readonly string[], channel: string) {
  return {
    type: 'modal' as const,
    callback_id: FLAG_VIEWS.create,
    private_metadata: channel,
    title: { type: 'plain_text' as const, text: 'Create a flag' },
    submit: { type: 'plain_text' as const, text: 'Create' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      { type: 'input', block_id: FLAG_CREATE_BLOCKS.key, label: { type: 'plain_text', text: 'Key' }, element: { type: 'plain_text_input', action_id: 'value', max_length: 64, placeholder: { type: 'plain_text', text: 'new_query_ui' } } },
      { type: 'input', block_id: FLAG_CREATE_BLOCKS.type, label: { type: 'plain_text', text: 'Type' }, element: { type: 'static_select', action_id: 'value', options: types.slice(0, 100).map((t) => ({ text: { type: 'plain_text' as const, text: t }, value: t })) } },
      { type: 'input', block_id: FLAG_CREATE_BLOCKS.description, label: { type: 'plain_text', text: 'What is it for?' }, element: { type: 'plain_text_input', action_id: 'value', max_length: 300 } },
    ] as KnownBlock[],
  };
}

export function killFlagModal(key: string, env: string, channel: string) {
  return {
    type: 'modal' as const,
    callback_id: FLAG_VIEWS.kill,
    private_metadata: `${key}|${env}|${channel}`,
    title: { type: 'plain_text' as const, text: 'Kill switch' },
    submit: { type: 'plain_text' as const, text: 'Switch off now' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Switch *\`${escapeMrkdwn(key)}\`* off in *${escapeMrkdwn(env)}* at once; its stakeholders are told why.` } },
      { type: 'input', block_id: FLAG_KILL_REASON.block, label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: FLAG_KILL_REASON.input, multiline: true, min_length: 5, max_length: 1000 } },
    ] as KnownBlock[],
  };
}
