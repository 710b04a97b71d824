// Test helpers for multi-step interactions: a button that opens a modal asking why (reject, withdraw), and a
// click on a button of a private (ephemeral) reply, sent the way Slack sends it (no `message` in the payload).
import { ACTIONS, VIEWS, WITHDRAW_REASON_BLOCK, WITHDRAW_REASON_INPUT } from '../../blocks/action-ids.js';
import { blockActionsBody, sendToBot } from '../../playground/slack-standin/requests.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { CHANNEL, SIGNING_SECRET, eventually, type TestBot } from './harness.js';

type Reply = Awaited<ReturnType<TestBot['click']>>;

/** Clicks Withdraw on a gate message as `user`; when the modal opens, submits `reason`. Returns the submission's reply, or undefined when no modal opened (refused). */
export async function withdrawVia(bot: TestBot, gate: StandinMessage, deployId: string, user: string, reason: string, opts: { expectModal?: boolean } = {}): Promise<Reply | undefined> {
  const before = bot.slack.callsTo('views.open').length;
  await bot.click(gate, ACTIONS.withdrawDeploy, user, deployId);
  if (opts.expectModal === false) return undefined;
  const opened = await eventually(
    () => bot.slack.callsTo('views.open').slice(before).find((c) => (c.args.view as { callback_id?: string; private_metadata?: string }).callback_id === VIEWS.withdrawReason && (c.args.view as { private_metadata?: string }).private_metadata === deployId),
    5_000,
    'the withdraw modal',
  );
  const view = opened.args.view as { callback_id: string; private_metadata: string };
  return bot.submitView({ ...view, state: { values: { [WITHDRAW_REASON_BLOCK]: { [WITHDRAW_REASON_INPUT]: { type: 'plain_text_input', value: reason } } } } }, user);
}

/** Clicks a button in a command's private reply (its ack body), as Slack does for an ephemeral message. */
export function clickInReply(bot: TestBot, reply: { blocks?: unknown[] }, actionId: string, user: string, channel = CHANNEL): Promise<Reply> {
  const blocks = (reply.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const element = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
  if (!element) throw new Error(`no button ${actionId} in the reply`);
  const ts = `${Math.floor(Date.now() / 1000)}.000001`;
  const body = blockActionsBody({
    user: { id: user },
    channel: { id: channel },
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: true },
    actions: [{ action_id: actionId, value: element.value, type: 'button' }],
    response_url: bot.slack.responseUrlFor({ user, channel, ts }),
  });
  return sendToBot(bot.url, body, SIGNING_SECRET);
}
