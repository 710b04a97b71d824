// The private question /rollback asks before it does anything: "Roll back production from v1.4.0 to v1.3.2?"
import type { KnownBlock } from '@slack/types';
import { ACTIONS, rollbackValue, type RollbackChoice } from './action-ids.js';
import { escapeMrkdwn } from './format.js';
import type { EnvironmentConfig } from '../src/core/config.js';

/** What a rollback runs, in words: the environment's own rollback steps, or its deploy steps with the old version. */
export function rollbackStepsWords(env: Pick<EnvironmentConfig, 'name' | 'rollback'>, to: string): string {
  return env.rollback
    ? `${escapeMrkdwn(env.name)}'s rollback steps (${env.rollback.steps.map((s) => escapeMrkdwn(s.name)).join(', ')}) back to \`${escapeMrkdwn(to)}\``
    : `${escapeMrkdwn(env.name)}'s steps with \`${escapeMrkdwn(to)}\``;
}

/** Where a rollback stands in its environment's line: it goes ahead of waiting deploys, never beside a running one. */
export function rollbackPlace(position: number, env: string): string {
  return position <= 1 ? 'nothing runs on it now, so it starts right away' : `it goes ahead of any waiting ${env} deploys and starts once the change running there now ends`;
}

export function rollbackQuestion(c: Pick<RollbackChoice, 'env' | 'from' | 'to'>): string {
  return c.from ? `Roll back ${c.env} from ${c.from} to ${c.to}?` : `Roll back ${c.env} to ${c.to}?`;
}

export function rollbackConfirmBlocks(c: RollbackChoice, env: Pick<EnvironmentConfig, 'name' | 'rollback'>): { text: string; blocks: KnownBlock[] } {
  const value = rollbackValue(c);
  const question = c.from ? `*Roll back ${escapeMrkdwn(c.env)}* from \`${escapeMrkdwn(c.from)}\` to \`${escapeMrkdwn(c.to)}\`?` : `*Roll back ${escapeMrkdwn(c.env)}* to \`${escapeMrkdwn(c.to)}\`?`;
  return {
    text: rollbackQuestion(c),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${question}\nA rollback skips the gates and runs ${rollbackStepsWords(env, c.to)}.${c.reason ? `\nWhy: ${escapeMrkdwn(c.reason)}` : ''}\nAfterwards ${escapeMrkdwn(c.env)} stays locked until someone unlocks it.` } },
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
