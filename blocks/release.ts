// Block Kit for releases and hotfixes: the live status message (steps, kind rules, deadline countdown, buttons),
// the notes posted in its thread for review, the edit-notes modal and the hotfix criteria question. Pure.
import type { KnownBlock, View } from '@slack/types';
import type { ReleaseRecord, ReleaseStep } from '../src/releases/release-store.js';
import { mention, slackDate, truncate } from './format.js';

export const RELEASE_ACTIONS = {
  editNotes: 'shipmate_release_edit_notes',
  shipHotfix: 'shipmate_hotfix_ship',
  hotfixCriterion: 'shipmate_hotfix_criterion',
} as const;
export const RELEASE_VIEWS = { editNotes: 'shipmate_release_notes_edit' } as const;
export const NOTES_BLOCK = 'release_notes_block';
export const NOTES_INPUT = 'release_notes_input';
/** Slack's limit for a plain-text input's value. */
export const NOTES_MAX = 3000;

const ICON: Record<ReleaseStep['status'], string> = { pending: ':white_circle:', done: ':white_check_mark:', skipped: ':fast_forward:', failed: ':x:', conflict: ':warning:' };

export function releaseTitle(r: ReleaseRecord): string {
  if (r.type === 'hotfix') return `Hotfix #${r.id}${r.branch ? ` · ${r.branch}` : ''}${r.tag ? ` → ${r.tag}` : ''}`;
  return `Release #${r.id}${r.tag ? ` · ${r.tag}` : r.request && 'bump' in r.request ? ` · ${r.request.bump}` : ''}`;
}

/** Whole minutes, so re-rendering on every poll edits the message at most once a minute. */
function minutes(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return 'less than a minute';
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** "3 h 12 min left" or "overdue by 5 min", from `now`; the message is re-rendered as the release is polled. */
export function countdown(deadlineAt: number, now: number): string {
  const left = deadlineAt - now;
  return left >= 0 ? `${minutes(left)} left` : `overdue by ${minutes(-left)}`;
}

/** The order steps are shown in (those not started yet included, so people see what is ahead). */
export function stepNames(r: ReleaseRecord, mergeTargets: string[], changelog: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [['plan', 'Version and notes'], ['branch', `Branch ${r.branch ? `\`${r.branch}\`` : ''}`.trim()]];
  if (r.type === 'hotfix') out.push(['ship', 'Fix pushed to the branch']);
  for (const env of r.envs) out.push([`deploy:${env}`, `Deploy to ${env}`]);
  out.push(['tag', `Tag ${r.tag ? `\`${r.tag}\`` : ''}`.trim()], ['publish', 'Release published with the notes']);
  if (changelog) out.push(['changelog', 'CHANGELOG entry']);
  out.push(['announce', 'Announcement']);
  for (const t of mergeTargets) out.push([`merge:${t}`, `Merge back into \`${t}\``]);
  out.push(['followups', r.type === 'hotfix' ? 'Post-hotfix tasks and post-mortem reminder' : 'Follow-ups']);
  return out;
}

export function releaseStatusBlocks(r: ReleaseRecord, view: { now: number; rules?: string; mergeTargets: string[]; changelog: boolean; deployLink?: (id: string) => string | undefined }): { text: string; blocks: KnownBlock[] } {
  const title = releaseTitle(r);
  const state = r.status === 'succeeded' ? ':rocket: *Released*' : r.status === 'failed' ? ':x: *Failed*' : r.status === 'cancelled' ? ':no_entry_sign: *Cancelled*' : ':hourglass_flowing_sand: *In progress*';
  const lines = [`${state} · requested by ${mention(r.requestedBy)} ${slackDate(r.createdAt)}`];
  if (r.description) lines.push(`*Problem:* ${truncate(r.description, 300)}${r.criterion ? ` · *criterion:* ${r.criterion}` : ''}`);
  if (r.why) lines.push(`*Version:* ${r.version ?? '?'} — ${r.why}`);
  if (r.deadlineAt && r.status !== 'succeeded') lines.push(`:alarm_clock: *Deadline:* ${slackDate(r.deadlineAt)} — ${countdown(r.deadlineAt, view.now)}`);
  if (r.error) lines.push(`:x: ${truncate(r.error, 800)}`);
  const steps = stepNames(r, view.mergeTargets, view.changelog).map(([key, label]) => {
    const s = r.steps[key];
    const status = s?.status ?? 'pending';
    const link = s?.deployId ? view.deployLink?.(s.deployId) : undefined;
    const deploy = s?.deployId ? ` (${link ? `<${link}|deploy #${s.deployId}>` : `deploy #${s.deployId}`})` : '';
    return `${ICON[status]} ${label}${deploy}${s?.detail ? ` — ${truncate(s.detail, 300)}` : ''}`;
  });
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`📦 ${title}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(steps.join('\n'), 3000) } },
  ];
  if (view.rules) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(view.rules, 2000) }] });
  const buttons: Array<Record<string, unknown>> = [];
  const live = r.status === 'preparing' || r.status === 'running';
  if (live && r.type === 'hotfix' && !r.shippedBy && r.steps.branch?.status === 'done') {
    buttons.push({ type: 'button', style: 'primary', action_id: RELEASE_ACTIONS.shipHotfix, value: r.id, text: { type: 'plain_text', text: 'Fix is pushed: deploy it' } });
  }
  if (live && r.notes !== undefined && r.steps.tag?.status !== 'done') {
    buttons.push({ type: 'button', action_id: RELEASE_ACTIONS.editNotes, value: r.id, text: { type: 'plain_text', text: 'Edit notes' } });
  }
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons } as unknown as KnownBlock);
  return { text: `${title}: ${r.status}`, blocks };
}

/** The notes for review, in the status message's thread (edited in place when someone edits them). */
export function notesBlocks(r: ReleaseRecord, mrkdwn: string): { text: string; blocks: KnownBlock[] } {
  const head = r.steps.tag?.status === 'done' ? 'Published release notes' : 'Draft release notes — review them; *Edit notes* on the status message changes them until the release is published';
  const by = r.notesEditedBy ? ` (last edited by ${mention(r.notesEditedBy)})` : '';
  return {
    text: `Release notes for ${r.tag ?? 'the release'}`,
    blocks: [
      { type: 'context', elements: [{ type: 'mrkdwn', text: `:memo: ${head}${by}` }] },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(mrkdwn, 3000) } },
    ],
  };
}

export function editNotesModal(r: ReleaseRecord): View {
  return {
    type: 'modal',
    callback_id: RELEASE_VIEWS.editNotes,
    private_metadata: r.id,
    title: { type: 'plain_text', text: 'Release notes' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'input', block_id: NOTES_BLOCK, label: { type: 'plain_text', text: `Notes for ${r.tag ?? 'the release'} (Markdown)` },
        element: { type: 'plain_text_input', action_id: NOTES_INPUT, multiline: true, max_length: NOTES_MAX, initial_value: (r.notes ?? '').slice(0, NOTES_MAX) } },
    ],
  };
}

/** `/hotfix "…"`: which criterion applies? One button each and "None of these". Values: "<ask id>:<criterion id>". */
export function hotfixQuestionBlocks(askId: string, description: string, criteria: Array<{ id: string; text: string }>): { text: string; blocks: KnownBlock[] } {
  const text = `Hotfix for “${truncate(description, 200)}”: which of these applies? A hotfix skips the normal release process only for one of them.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'actions', elements: [
        ...criteria.map((c) => ({ type: 'button' as const, action_id: `${RELEASE_ACTIONS.hotfixCriterion}:${c.id}`, value: `${askId}:${c.id}`, text: { type: 'plain_text' as const, text: truncate(c.text, 75) } })),
        { type: 'button' as const, action_id: `${RELEASE_ACTIONS.hotfixCriterion}:none`, value: `${askId}:none`, text: { type: 'plain_text' as const, text: 'None of these' } },
      ] },
    ],
  };
}
