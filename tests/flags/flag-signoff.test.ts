// Production changes to release flags signed off through the deploy gates' approval mechanism, end to end over
// the real Bolt receiver: the environment's rules (2 approvals, approver roles, no self-approval, expiry), the
// sign-off message edited as approvals come in, refusals and approvals audited, the change applied exactly
// once after the last approval (also when two approvers click at once, or a click is delivered twice) and
// visible over OFREP; a rejection (reason in a modal) changes nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import { FLAG_ACTIONS, FLAG_REJECT_REASON, FLAG_VIEWS } from '../../blocks/flags.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { blockActionsBody, sendToBot } from '../../playground/slack-standin/requests.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { SIGNING_SECRET, dmsTo, eventually, type TestBot, useTestBot } from '../helpers/harness.js';

const PROD_KEY = 'prod-key-abcdefghij';
const YAML = `
roles:
  approvers: { users: [U0TARA, U0SAM, U0LEE] }
  security: { users: [U0SEC] }
channels:
  deployLog: C0DEPLOYLOG
environments:
  - name: dev
    steps: [{ name: Build, run: [node, -e, ""] }]
  - name: staging
    approvals: { required: 2, roles: [approvers], expiresAfter: 1s }
    steps: [{ name: Build, run: [node, -e, ""] }]
  - name: production
    aliases: [prod]
    channels: { stakeholders: [C0STAKE] }
    approvals: { required: 2, roles: [approvers] }
    steps: [{ name: Build, run: [node, -e, ""] }]
  - name: payments
    approvals: { required: 2, roles: [approvers, security], requireRoles: [security], distinctRoles: true }
    steps: [{ name: Build, run: [node, -e, ""] }]
flags:
  types:
    release: { value: boolean, signoff: [staging, production, payments] }
    experiment: { value: boolean }
  changers: { production: [approvers] }
  apiKeys: { production: OFREP_KEY_PROD }
`;

const useBot = useTestBot({ configYaml: YAML, env: { OFREP_KEY_PROD: PROD_KEY } });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const APPROVE = `${FLAG_ACTIONS.approve}:approvers`;
const say = async (text: string, user = 'U0TARA') => (await bot.command('/flag', text, user)).json as { text: string };
const flag = (key: string) => bot.shipmate.deps.flags.flags.get(key);
const history = (key: string) => bot.shipmate.deps.flags.flags.history(key, 50);
const audit = async (action: string, detail: string) => (await readAudit(bot.shipmate.deps.redis, bot.prefix, 500)).filter((e) => e.action === action && (e.detail ?? '').includes(detail));

/** The sign-off message for `key` in a channel, as it stands now (edits included). */
function signoffMessage(key: string, channel = 'C0STAKE'): StandinMessage | undefined {
  return bot.slack.messages(channel).find((m) => (m.text ?? '').includes(`Sign-off for flag ${key}`));
}

async function requested(key: string, env = 'prod', user = 'U0TARA'): Promise<StandinMessage> {
  await say(`create ${key} release "${key}"`, user);
  const reply = await say(`${key} on ${env}`, user);
  expect(reply.text).toContain('needs 2 sign-off(s)');
  // A copy as first posted: the message is edited in place as approvals come in (a late click uses old buttons).
  return structuredClone(await eventually(() => signoffMessage(key, env === 'prod' ? 'C0STAKE' : 'C0DEPLOYLOG'), 5_000, 'the sign-off message'));
}

async function ofrep(key: string): Promise<unknown> {
  const res = await fetch(`${bot.url.replace(/\/slack\/events$/, '')}/ofrep/v1/evaluate/flags/${key}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': PROD_KEY }, body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
  });
  return ((await res.json()) as { value?: unknown }).value;
}

describe('production release flags: sign-off through the deploy approval rules', () => {
  it('waits for 2 approvals from the approver role, refuses self-approval and outsiders, then applies once (visible over OFREP)', async () => {
    const request = await requested('new_checkout');
    expect(request.text).toContain('waiting for 2 approvals');
    // The deploy gate message's sign-off text and buttons.
    expect(JSON.stringify(request.blocks)).toContain('*Sign-offs* — 0 of 2');
    expect(JSON.stringify(request.blocks)).toContain('Approve as Approvers');
    expect(JSON.stringify(request.blocks)).toContain('<@U0TARA> asked for it and cannot approve it');

    await bot.click(request, APPROVE, 'U0TARA');
    await eventually(() => bot.slack.ephemerals('U0TARA').find((m) => (m.text ?? '').includes('You requested this flag change, so you cannot approve it')), 5_000, 'self-approval refused');
    await bot.click(request, APPROVE, 'U0BOB');
    await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('You do not hold the Approvers role')), 5_000, 'outsider refused');
    expect(await audit('flag.approval.refused', 'new_checkout')).toHaveLength(2);

    await bot.click(request, APPROVE, 'U0SAM');
    await eventually(() => bot.slack.ephemerals('U0SAM').find((m) => (m.text ?? '').includes('It still needs 1 more')), 5_000, 'first approval');
    expect((await flag('new_checkout'))?.envs.production).toBeUndefined();
    expect(await ofrep('new_checkout')).toBe(false);
    await eventually(() => JSON.stringify(signoffMessage('new_checkout')?.blocks).includes('*Sign-offs* — 1 of 2'), 5_000, 'the message edited: 1 of 2');

    await bot.click(request, APPROVE, 'U0LEE');
    await eventually(async () => (await flag('new_checkout'))?.envs.production?.enabled, 5_000, 'the change applied');
    expect(await ofrep('new_checkout')).toBe(true);
    const h = await history('new_checkout');
    expect(h.filter((e) => e.action === 'signed-off')).toHaveLength(1);
    expect(h[0]).toMatchObject({ action: 'signed-off', user: 'U0TARA', env: 'production', before: 'off', after: 'on' });
    expect(h[0]?.reason).toContain('signed off by <@U0SAM>, <@U0LEE>');
    expect(h.filter((e) => e.action === 'approved').map((e) => e.user).sort()).toEqual(['U0LEE', 'U0SAM']);
    expect(await audit('flag.approval.given', 'new_checkout')).toHaveLength(2);
    expect(await audit('flag.gates.met', 'new_checkout')).toHaveLength(1);
    await eventually(() => (signoffMessage('new_checkout')?.text ?? '').includes('applied: off → on'), 5_000, 'the message says it was applied');
    expect(JSON.stringify(signoffMessage('new_checkout')?.blocks)).not.toContain(APPROVE);
    // A late click on the old message changes nothing more.
    await bot.click(request, APPROVE, 'U0SAM');
    await eventually(() => bot.slack.ephemerals('U0SAM').find((m) => (m.text ?? '').includes('needs no more sign-offs')), 5_000, 'late click told');
    expect((await history('new_checkout')).filter((e) => e.action === 'signed-off')).toHaveLength(1);
    const log = await bot.shipmate.deps.store.recentLog(20, 'production');
    expect(log.filter((e) => e.kind === 'flag' && e.ref === 'new_checkout')).toHaveLength(1);
  });

  it('a change met by a process that stopped before applying it is applied by a later click, once', async () => {
    const request = await requested('stuck_flag');
    const redis = bot.shipmate.deps.redis;
    const keys = await redis.keys(`${bot.prefix}:gated:*`);
    const gatedKey = (await Promise.all(keys.map(async (k) => ((await redis.get(k)) ?? '').includes('"key":"stuck_flag"') && k))).find(Boolean) || undefined;
    const id = (gatedKey ?? '').split(':').at(-1) ?? '';
    // The crash: the approvals that meet the rules are written, nothing applies the change.
    await bot.shipmate.deps.flags.signoffs.approve(id, 'U0SAM', 'approvers', 'flag change');
    expect((await bot.shipmate.deps.flags.signoffs.approve(id, 'U0LEE', 'approvers', 'flag change')).met).toBe(true);
    expect(await ofrep('stuck_flag')).toBe(false);
    // Within the grace an applying process gets, a click does not take over.
    await bot.click(request, APPROVE, 'U0SAM');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(await ofrep('stuck_flag')).toBe(false);
    // Past it, the next click applies it; later clicks change nothing more.
    const stored = JSON.parse((await redis.get(gatedKey ?? '')) ?? '{}') as { gates: { metAt: number } };
    stored.gates.metAt -= 60_000;
    await redis.set(gatedKey ?? '', JSON.stringify(stored), 'KEEPTTL');
    await bot.click(request, APPROVE, 'U0SAM');
    await eventually(async () => (await ofrep('stuck_flag')) === true, 5_000, 'the change applied');
    await bot.click(request, APPROVE, 'U0LEE');
    await new Promise((ok) => setTimeout(ok, 300));
    expect((await history('stuck_flag')).filter((e) => e.action === 'signed-off')).toHaveLength(1);
    expect((await bot.shipmate.deps.flags.signoffs.get(id))?.outcome).toMatch(/^applied/);
  });

  it('applies the change once when the last two approvers click at the same moment', async () => {
    const request = await requested('race_flag', 'prod', 'U0ALICE');
    // U0ALICE owns the flag (so may ask) but is not an approver; three approvers race for the 2 places.
    const clicks = await Promise.all(['U0TARA', 'U0SAM', 'U0LEE'].map((u) => bot.click(request, APPROVE, u)));
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200]);
    await eventually(async () => (await flag('race_flag'))?.envs.production?.enabled, 5_000, 'the change applied');
    await new Promise((ok) => setTimeout(ok, 300));
    const h = await history('race_flag');
    expect(h.filter((e) => e.action === 'signed-off')).toHaveLength(1);
    expect(h.filter((e) => e.action === 'approved')).toHaveLength(2);
    expect(await audit('flag.gates.met', 'race_flag')).toHaveLength(1);
    expect((await flag('race_flag'))?.rev).toBe(2);
    await eventually(() => bot.slack.messages('C0STAKE').find((m) => (m.text ?? '').includes('Flag race_flag in production: off → on')), 5_000, 'the announcement');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(bot.slack.messages('C0STAKE').filter((m) => (m.text ?? '').includes('Flag race_flag in production'))).toHaveLength(1);
  });

  it('counts a click delivered twice once, and the last one applies once', async () => {
    const request = await requested('redelivered');
    const body = (user: string) => blockActionsBody({
      user: { id: user }, channel: { id: request.channel }, message: { ts: request.ts, text: request.text, blocks: request.blocks } as never,
      actions: [{ action_id: APPROVE }], trigger_id: `trig-${user}-1`, response_url: bot.slack.responseUrlFor({ user, channel: request.channel, ts: request.ts }),
    });
    const first = body('U0SAM');
    expect((await Promise.all([sendToBot(bot.url, first, SIGNING_SECRET), sendToBot(bot.url, first, SIGNING_SECRET)])).map((r) => r.status)).toEqual([200, 200]);
    await eventually(async () => (await audit('flag.approval.given', 'redelivered')).length === 1, 5_000, 'one approval');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(await audit('flag.approval.given', 'redelivered')).toHaveLength(1);
    expect(bot.slack.ephemerals('U0SAM').filter((m) => /already approved/.test(m.text ?? ''))).toEqual([]);
    const last = body('U0LEE');
    await Promise.all([sendToBot(bot.url, last, SIGNING_SECRET), sendToBot(bot.url, last, SIGNING_SECRET)]);
    await eventually(async () => (await flag('redelivered'))?.envs.production?.enabled, 5_000, 'the change applied');
    await new Promise((ok) => setTimeout(ok, 300));
    expect((await history('redelivered')).filter((e) => e.action === 'signed-off')).toHaveLength(1);
    expect(await audit('flag.approval.given', 'redelivered')).toHaveLength(2);
  });

  it('rejects with a reason from a modal: nothing changes, the requester is told, later approvals are refused', async () => {
    const request = await requested('rejected_flag');
    await bot.click(request, FLAG_ACTIONS.reject, 'U0BOB');
    await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('Only someone holding a sign-off role for production')), 5_000, 'outsider may not reject');
    const opened = bot.slack.callsTo('views.open').length;
    await bot.click(request, FLAG_ACTIONS.reject, 'U0SAM');
    const modal = await eventually(() => bot.slack.callsTo('views.open').slice(opened).find((c) => (c.args.view as { callback_id?: string }).callback_id === FLAG_VIEWS.reject), 5_000, 'the reject modal');
    const view = modal.args.view as { callback_id: string; private_metadata: string };
    const short = await bot.submitView({ ...view, state: { values: { [FLAG_REJECT_REASON.block]: { [FLAG_REJECT_REASON.input]: { type: 'plain_text_input', value: 'no' } } } } }, 'U0SAM');
    expect(short.json).toMatchObject({ response_action: 'errors' });
    await bot.submitView({ ...view, state: { values: { [FLAG_REJECT_REASON.block]: { [FLAG_REJECT_REASON.input]: { type: 'plain_text_input', value: 'checkout copy not reviewed' } } } } }, 'U0SAM');
    await eventually(() => dmsTo(bot.slack, 'U0TARA').find((m) => (m.text ?? '').includes('<@U0SAM> rejected your change of `rejected_flag`')), 5_000, 'the requester told');
    await eventually(() => (signoffMessage('rejected_flag')?.text ?? '').includes('rejected'), 5_000, 'the message says rejected');
    expect(await audit('flag.rejected', 'rejected_flag')).toHaveLength(1);
    await bot.click(request, APPROVE, 'U0LEE');
    await eventually(() => bot.slack.ephemerals('U0LEE').find((m) => (m.text ?? '').includes('was rejected by <@U0SAM>')), 5_000, 'approval after rejection refused');
    expect((await flag('rejected_flag'))?.envs.production).toBeUndefined();
    expect((await history('rejected_flag')).map((e) => e.action)).toEqual(['rejected', 'signoff-requested', 'create']);
  });

  it('drops an approval older than the environment’s expiry, as for deploys', async () => {
    await say('create expiring release "Expiring"', 'U0ALICE');
    expect((await say('expiring on staging', 'U0ALICE')).text).toContain('needs 2 sign-off(s)');
    const request = structuredClone(await eventually(() => signoffMessage('expiring', 'C0DEPLOYLOG'), 5_000, 'the sign-off message'));
    await bot.click(request, APPROVE, 'U0SAM');
    await eventually(() => bot.slack.ephemerals('U0SAM').find((m) => (m.text ?? '').includes('It still needs 1 more')), 5_000, 'first approval');
    await new Promise((ok) => setTimeout(ok, 1_100));
    await bot.click(request, APPROVE, 'U0LEE');
    await eventually(() => bot.slack.ephemerals('U0LEE').find((m) => (m.text ?? '').includes('It still needs 1 more')), 5_000, 'second approval, first expired');
    expect((await flag('expiring'))?.envs.staging).toBeUndefined();
    expect(await audit('flag.approval.expired', 'expiring')).toHaveLength(1);
    await bot.click(request, APPROVE, 'U0TARA');
    await eventually(async () => (await flag('expiring'))?.envs.staging?.enabled, 5_000, 'applied after a fresh second approval');
  });

  it('honours required and distinct roles from the environment’s rules', async () => {
    await say('create pay_flow release "Pay flow"', 'U0ALICE');
    expect((await say('pay_flow on payments', 'U0ALICE')).text).toContain('needs 2 sign-off(s)');
    const request = structuredClone(await eventually(() => signoffMessage('pay_flow', 'C0DEPLOYLOG'), 5_000, 'the sign-off message'));
    expect(JSON.stringify(request.blocks)).toContain('Must include Security');
    await bot.click(request, APPROVE, 'U0SAM');
    await eventually(async () => (await audit('flag.approval.given', 'pay_flow')).length === 1, 5_000, 'first approval');
    await bot.click(request, APPROVE, 'U0LEE');
    await eventually(() => bot.slack.ephemerals('U0LEE').find((m) => /Approvers has already signed|must come from Security/.test(m.text ?? '')), 5_000, 'a second approver refused');
    expect((await flag('pay_flow'))?.envs.payments).toBeUndefined();
    await bot.click(request, `${FLAG_ACTIONS.approve}:security`, 'U0SEC');
    await eventually(async () => (await flag('pay_flow'))?.envs.payments?.enabled, 5_000, 'applied with the security sign-off');
  });
});
