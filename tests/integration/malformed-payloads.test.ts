// Signed but malformed payloads (as a buggy proxy, an old client or a fuzzer might send them) are answered at
// once with 200, refused in the log, and the person — when the payload says who — is told privately.
// Nothing crashes: no unhandled error in a listener, no unhandled rejection, no 404 after Bolt's 3 s timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../blocks/action-ids.js';
import { sendToBot, slashCommandBody } from '../../playground/slack-standin/requests.js';
import { CHANNEL, SIGNING_SECRET, eventually, useTestBot, type TestBot } from '../helpers/harness.js';

const YAML = `
roles:
  engineers: { users: [U0ALICE] }
  tech_lead: { label: Tech Lead, users: [U0TARA] }
environments:
  - name: production
    deployers: [engineers]
    approvals: { required: 1, roles: [tech_lead], notify: none }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('up')"] }
`;

const useBot = useTestBot({ configYaml: YAML });
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onRejection);
});
afterAll(() => {
  process.off('unhandledRejection', onRejection);
});

const payload = (p: Record<string, unknown>) => new URLSearchParams({ payload: JSON.stringify(p) }).toString();
const user = (id: string) => ({ id, username: id.toLowerCase(), team_id: 'T0SHIPMATE' });
const base = (id: string) => ({ type: 'block_actions', user: user(id), api_app_id: 'A0SHIPMATE', token: 'x', team: { id: 'T0SHIPMATE', domain: 'shipmate' }, trigger_id: `1.${id}.abc` });
const button = (action_id: string, value?: string) => ({ type: 'button', action_id, block_id: 'b', action_ts: '1.0', ...(value !== undefined ? { value } : {}) });

/**
 * Sends a signed body; it must be answered 200 inside Slack's 3 s: at once when the guard or a listener refuses
 * it, and by the receiver's ack deadline (2.5 s) for what no listener takes (`unacknowledged`: a payload Bolt
 * cannot classify, an action or view id nothing handles).
 */
async function send(bot: TestBot, body: string, opts: { unacknowledged?: boolean } = {}) {
  const res = await sendToBot(bot.url, body, SIGNING_SECRET);
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(opts.unacknowledged ? 2_900 : 1_000);
  return res;
}

/** The private note `who` got, through the response_url (ephemeral) or as a DM when the payload had none. */
const toldPrivately = (bot: TestBot, who: string, text: string) =>
  eventually(
    () =>
      bot.slack.ephemerals(who).find((m) => (m.text ?? '').includes(text)) ??
      bot.slack.callsTo('chat.postMessage').find((c) => c.args.channel === who && String(c.args.text ?? '').includes(text)),
    5_000,
    `${who} to be told "${text}"`,
  );

const refusedInLog = (bot: TestBot, reason: RegExp) =>
  eventually(() => bot.logs.lines().find((l) => String(l.msg).includes('refused') && reason.test(JSON.stringify(l))), 5_000, `a refusal matching ${reason}`);

describe('malformed but signed payloads', () => {
  it('a modal submission without state, or with a deploy id that is not one, gets 200 and a refusal', async () => {
    const bot = useBot();
    await send(bot, payload({ type: 'view_submission', user: user('U0TARA'), view: { id: 'V1', callback_id: VIEWS.rejectReason, private_metadata: '1' } }));
    await refusedInLog(bot, /view\.state/);
    await toldPrivately(bot, 'U0TARA', 'could not read that request');
    const state = { values: { reason_block: { reason_input: { type: 'plain_text_input', value: 'a long enough reason' } } } };
    await send(bot, payload({ type: 'view_submission', user: user('U0TARA'), view: { id: 'V2', callback_id: VIEWS.rejectReason, private_metadata: '../1', state } }));
    await toldPrivately(bot, 'U0TARA', 'That form does not belong to a deploy');
    await send(bot, payload({ type: 'view_submission', user: user('U0TARA'), view: { id: 'V3', callback_id: 'someone_elses_modal', private_metadata: '', state } }), { unacknowledged: true });
    await refusedInLog(bot, /not acknowledged.*someone_elses_modal|someone_elses_modal.*not acknowledged/);
  });

  it('a Cancel without response_url, with a non-numeric or unknown deploy id, is answered by DM', async () => {
    const bot = useBot();
    const id = /[Dd]eploy #(\d+)/.exec((await bot.command('/deploy', 'production v1', 'U0ALICE')).json.text)?.[1] ?? '';
    await eventually(async () => (await bot.shipmate.deps.store.get(id))?.gates?.gateTs);
    // a stranger's cancel, with no response_url: refused, told by DM (this used to throw "respond is not a function")
    await send(bot, payload({ ...base('U0MALLORY'), channel: { id: CHANNEL }, actions: [button(ACTIONS.withdrawDeploy, id)] }));
    await toldPrivately(bot, 'U0MALLORY', `can withdraw deploy #${id}`);
    await send(bot, payload({ ...base('U0ALICE'), actions: [button(ACTIONS.cancelDeploy, 'abc')] }));
    await toldPrivately(bot, 'U0ALICE', 'That Cancel button does not name a deploy');
    await send(bot, payload({ ...base('U0ALICE'), actions: [button(ACTIONS.cancelDeploy, '987654')] }));
    await toldPrivately(bot, 'U0ALICE', 'Deploy #987654 no longer exists');
    expect((await bot.shipmate.deps.store.get(id))?.status).toBe('pending');
  });

  it('clicks with missing or odd parts: no actions, two actions, no message, unknown ids, garbage values', async () => {
    const bot = useBot();
    const rurl = () => bot.slack.responseUrlFor({ user: 'U0ALICE', channel: CHANNEL });
    await Promise.all([
      send(bot, payload({ ...base('U0ALICE'), response_url: rurl() }), { unacknowledged: true }),
      send(bot, payload({ type: 'mystery', user: user('U0ALICE') }), { unacknowledged: true }),
      send(bot, payload({ ...base('U0ALICE'), actions: [button('not_shipmates_button', 'x')] }), { unacknowledged: true }),
    ]);
    await refusedInLog(bot, /not_shipmates_button/);
    await refusedInLog(bot, /not acknowledged/);
    await send(bot, payload({ ...base('U0ALICE'), actions: [] }));
    await send(bot, payload({ ...base('U0ALICE'), actions: [button(ACTIONS.cancelDeploy, '1'), button(ACTIONS.cancelDeploy, '2')] }));
    await send(bot, payload({ ...base('U0ALICE'), actions: [{ type: 'checkboxes', action_id: ACTIONS.tickChecklist }] }));
    await refusedInLog(bot, /actions\.0/);
    await send(bot, payload({ ...base('U0ALICE'), actions: [{ type: 'datepicker', action_id: ACTIONS.cancelDeploy }] }));
    await toldPrivately(bot, 'U0ALICE', 'That Cancel button does not name a deploy');
    // the checkbox click without the message it came from, and one whose block names no deploy
    await send(bot, payload({ ...base('U0ALICE'), response_url: rurl(), actions: [{ type: 'checkboxes', action_id: ACTIONS.tickChecklist, block_id: 'gate:x:0', selected_options: [] }] }));
    await toldPrivately(bot, 'U0ALICE', 'That checklist no longer belongs to a deploy');
    await send(bot, payload({ ...base('U0ALICE'), response_url: rurl(), actions: [button(`${ACTIONS.approve}:tech_lead`, 'nonsense')] }));
    await toldPrivately(bot, 'U0ALICE', 'That approval button is not one of mine');
    await send(bot, payload({ ...base('U0ALICE'), response_url: rurl(), actions: [button(`${ACTIONS.gatePage}:next`, '1:NaN')] }));
    await toldPrivately(bot, 'U0ALICE', 'That page button does not name a deploy and a page');
    await send(bot, payload({ ...base('U0ALICE'), response_url: rurl(), actions: [button(ACTIONS.rollbackConfirm, '{"env": 1}')] }));
    await toldPrivately(bot, 'U0ALICE', 'That rollback button does not say what to roll back');
    await send(bot, payload({ ...base('U0ALICE'), response_url: rurl(), actions: [button(ACTIONS.postDeploySignoff)] }));
    await toldPrivately(bot, 'U0ALICE', 'That button does not name a deploy');
    // no user at all: nobody to tell, but still answered and logged
    await send(bot, payload({ type: 'block_actions', actions: [button(ACTIONS.cancelDeploy, '1')] }));
    await refusedInLog(bot, /user/);
    // payload kinds Shipmate registers nothing for
    await send(bot, payload({ type: 'shortcut', user: user('U0ALICE'), callback_id: 'x', trigger_id: '1.U0ALICE.a' }));
    await refusedInLog(bot, /not handled: shortcut/);
  });

  it('a slash command without its text is refused privately', async () => {
    const bot = useBot();
    const body = new URLSearchParams(slashCommandBody({ command: '/deploy', text: '', user_id: 'U0ALICE', channel_id: CHANNEL, response_url: bot.slack.responseUrlFor({ user: 'U0ALICE', channel: CHANNEL }) }));
    body.delete('text');
    await send(bot, body.toString());
    await refusedInLog(bot, /text/);
    await toldPrivately(bot, 'U0ALICE', 'could not read that request');
  });

  it('left no unhandled error behind', () => {
    const bot = useBot();
    const errors = bot.logs.lines().filter((l) => (l.level as number) >= 50);
    expect(errors.map((l) => l.msg)).toEqual([]);
    expect(rejections).toEqual([]);
  });
});
