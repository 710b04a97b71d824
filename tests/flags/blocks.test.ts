// The flag card and messages are valid Block Kit (the stand-in's Slack limits), and the card's buttons step
// to the neighbouring percentages with the revision they were drawn from.
import { describe, expect, it } from 'vitest';
import { flagCard, flagKillNotice, parseStepValue, stepActionId, createFlagModal, killFlagModal, staleFlagsMessage } from '../../blocks/flags.js';
import { messageProblems } from '../../playground/slack-standin/web-api.js';
import type { Flag } from '../../src/flags/evaluation.js';

const flag: Flag = {
  key: 'new_query_ui', type: 'release', valueType: 'boolean', description: 'New <query> UI', owner: 'U0ALICE', createdAt: Date.UTC(2026, 0, 1), defaultValue: false, rev: 7,
  envs: { staging: { enabled: true, percentage: 10, changedAt: Date.UTC(2026, 0, 2), changedBy: 'U0BOB' }, production: { enabled: false, changedAt: 0, changedBy: 'U0BOB', killed: { by: 'U0BOB', at: 0, reason: 'errors' } } },
};

describe('flag blocks', () => {
  it('draws a valid card with age, state per environment and step buttons', () => {
    const card = flagCard(flag, ['dev', 'staging', 'production'], Date.UTC(2026, 0, 11));
    expect(messageProblems(card)).toBeUndefined();
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('*Age:* 10 days');
    expect(text).toContain('New &lt;query&gt; UI');
    expect(text).toContain('off (killed: errors)');
    const buttons = card.blocks.flatMap((b) => ('elements' in b && b.type === 'actions' ? b.elements : [])) as Array<{ action_id: string; value: string }>;
    const staging = buttons.filter((b) => b.action_id.startsWith(stepActionId('staging', 'up').replace(/up$/, '')));
    expect(staging.map((b) => parseStepValue(b.value))).toEqual([{ key: 'new_query_ui', env: 'staging', to: 5, rev: 7 }, { key: 'new_query_ui', env: 'staging', to: 25, rev: 7 }]);
    expect(parseStepValue('new_query_ui|staging|250|7')).toBeUndefined();
    expect(parseStepValue('x|staging|25')).toBeUndefined();
  });

  it('draws valid notices and modals', () => {
    expect(messageProblems(flagKillNotice(flag, 'production', { at: 0, user: 'U0BOB', action: 'kill', before: 'on', after: 'off (killed)', reason: 'errors' }))).toBeUndefined();
    expect(messageProblems(staleFlagsMessage([{ flag, since: 0 }]))).toBeUndefined();
    expect(createFlagModal(['release', 'experiment'], 'C1').blocks).toHaveLength(3);
    expect(killFlagModal('search', 'production', 'C1').private_metadata).toBe('search|production|C1');
  });
});
