// Environment locks as Slack shows them: who locked, why and since when, and the refusal a deploy to a locked
// environment gets, with the *Tell me when it's free* button.
import type { KnownBlock } from '@slack/types';
import type { EnvLock } from '../src/deploys/locks.js';
import { ACTIONS } from './action-ids.js';
import { escapeMrkdwn, mention, slackDate } from './format.js';

/** "by <@U1> since <date>: reason" */
export function lockText(lock: Pick<EnvLock, 'by' | 'reason' | 'at' | 'deployId'>): string {
  return `by ${mention(lock.by)} since ${slackDate(lock.at)}${lock.deployId ? ` (after rollback #${lock.deployId})` : ''}: ${escapeMrkdwn(lock.reason)}`;
}

export function lockRefusalBlocks(env: string, text: string): KnownBlock[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      block_id: 'lock_watch',
      elements: [{ type: 'button', action_id: ACTIONS.lockWatch, text: { type: 'plain_text', text: "Tell me when it's free" }, value: env }],
    },
  ];
}
