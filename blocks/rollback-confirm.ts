// The private question /rollback asks before it does anything: "Roll back production from v1.4.0 to v1.3.2?"
import type { KnownBlock } from '@slack/types';
import { ACTIONS, rollbackValue, type RollbackChoice } from './action-ids.js';
import { escapeMrkdwn } from './format.js';

export function rollbackQuestion(c: Pick<RollbackChoice, 'env' | 'from' | 'to'>): string {
  return c.from ? `Roll back ${c.env} from ${c.from} to ${c.to}?` : `Roll back ${c.env} to ${c.to}?`;
}

export function rollbackConfirmBlocks(c: RollbackChoice): { text: string; blocks: KnownBlock[] } {
  const value = rollbackValue(c);
  const question = c.from ? `*Roll back ${escapeMrkdwn(c.env)}* from \`${escapeMrkdwn(c.from)}\` to \`${escapeMrkdwn(c.to)}\`?` : `*Roll back ${escapeMrkdwn(c.env)}* to \`${escapeMrkdwn(c.to)}\`?`;
  return {
    text: rollbackQuestion(c),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${question}\nA rollback skips the gates and runs ${escapeMrkdwn(c.env)}'s steps with \`${escapeMrkdwn(c.to)}\`.` } },
      {
        type: 'actions',
        block_id: 'rollback_confirm',
        elements: [
          { type: 'button', action_id: ACTIONS.rollbackConfirm, text: { type: 'plain_text', text: 'Roll back' }, style: 'danger', value },
          { type: 'button', action_id: ACTIONS.rollbackKeep, text: { type: 'plain_text', text: 'Keep' }, value },
        ],
      },
    ],
  };
}
