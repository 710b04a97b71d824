// Block Kit for what stakeholders and the team read outside a deploy's own messages: notices, release
// announcements and follow-up reminders. Pure; the texts come filled in (src/notify/templates.ts).
import type { KnownBlock } from '@slack/types';
import { truncate } from './format.js';

/** The button on a follow-up message that cancels the deploy's remaining follow-ups (value: the deploy id). */
export const FOLLOW_UPS_CANCEL = 'shipmate_followups_cancel';

export interface NoticeView {
  title?: string;
  text: string;
  /** Small print under the text: links, who, when. */
  context?: string[];
  /** Show "Cancel follow-ups" for this deploy. */
  cancelFollowUpsOf?: string;
}

/** A notice within Slack's limits: header ≤ 150, section ≤ 3000, context ≤ 10 elements; `text` is the notification fallback. */
export function noticeBlocks(view: NoticeView): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [];
  if (view.title) blocks.push({ type: 'header', text: { type: 'plain_text', text: truncate(view.title, 150), emoji: true } });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(view.text, 3000) } });
  const context = (view.context ?? []).filter(Boolean).slice(0, 10);
  if (context.length) blocks.push({ type: 'context', elements: context.map((c) => ({ type: 'mrkdwn', text: truncate(c, 2000) })) });
  if (view.cancelFollowUpsOf) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', action_id: FOLLOW_UPS_CANCEL, text: { type: 'plain_text', text: 'Cancel follow-ups' }, value: view.cancelFollowUpsOf }] });
  }
  const text = truncate(view.title ? `${view.title}: ${view.text}` : view.text, 3000);
  return { text, blocks };
}
