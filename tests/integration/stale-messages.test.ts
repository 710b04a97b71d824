// One live message per thing: after approve, reject, withdraw, expire, start and finish, the gate message, the
// status message and every approver's DM say the deploy's current state — nothing says what is no longer true.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT } from '../../blocks/action-ids.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { CHANNEL, allText, dmsTo, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { withdrawVia } from '../helpers/interactions.js';

const YAML = `
roles:
  deployers: { users: [U0ALICE] }
  tech_lead: { label: Tech Lead, users: [U0TARA, U0TED] }
  security_lead: { label: Security Lead, users: [U0SAM] }
environments:
  - name: production
    aliases: [prod]
    deployers: [deployers]
    approvals: { required: 2, roles: [tech_lead, security_lead], distinctRoles: true, expiresAfter: 2s, notify: dm }
    steps:
      - { name: Deploy, run: [sleep, "1.5"] }
`;
const APPROVERS = ['U0TARA', 'U0TED', 'U0SAM'];

let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

const gate = (id: string) => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${id} `));
const dm = (id: string, user: string) => dmsTo(bot.slack, user).find((m) => (m.text ?? '').includes(`deploy #${id}:`));

/** Waits until the gate message and every approver's DM (there is exactly one each) satisfy `ok`. */
async function allSay(id: string, what: string, gateOk: (t: string) => boolean, dmOk: (t: string, user: string) => boolean): Promise<void> {
  await eventually(() => {
    const g = gate(id);
    return g && gateOk(allText(g)) && APPROVERS.every((u) => { const m = dm(id, u); return m && dmOk(m.text ?? '', u); });
  }, 10_000, what);
  for (const u of APPROVERS) expect(dmsTo(bot.slack, u).filter((m) => (m.text ?? '').includes(`deploy #${id}:`))).toHaveLength(1);
  expect(bot.slack.messages(CHANNEL).filter((m) => headerText(m).includes(`Gates for deploy #${id} `))).toHaveLength(1);
}

async function request(version: string): Promise<{ id: string; gate: StandinMessage }> {
  const res = await bot.command('/deploy', `prod ${version}`, 'U0ALICE');
  const id = /deploy #(\d+)/i.exec(res.json.text)?.[1] ?? '';
  await allSay(id, 'the request DMs', (t) => t.includes('Waiting for'), (t) => t.includes('asks for your sign-off'));
  return { id, gate: gate(id)! };
}

describe('messages that never go stale', () => {
  it('approve, start, finish: every DM, the gate and the status message follow', async () => {
    const { id, gate: g } = await request('v1.0.0');
    // App Home follows without being opened: the approver's Home offers the sign-off…
    await eventually(() => JSON.stringify(bot.slack.homeOf('U0SAM')?.blocks ?? []).includes(`"${id}:security_lead"`), 5_000, 'the sign-off on Home');
    await bot.click(g, `${ACTIONS.approve}:tech_lead`, 'U0TARA');
    // …and once the tech-lead approval is in, Ted (same role) has nothing left to sign there
    await eventually(() => { const h = JSON.stringify(bot.slack.homeOf('U0TED')?.blocks ?? null); return h !== 'null' && !h.includes(`"${id}:tech_lead"`); }, 5_000, "Ted's Home updated");
    await allSay(id, 'the approval', (t) => t.includes('<@U0TARA>'), (t, u) =>
      u === 'U0TARA' ? t.includes('You approved') : t.includes('Approved by <@U0TARA> (Tech Lead)') && t.includes('asks for your sign-off'));
    await bot.click(gate(id)!, `${ACTIONS.approve}:security_lead`, 'U0SAM');
    // started: the gate message and the DMs say it runs, the status message too
    await allSay(id, 'the start', (t) => t.includes('is running'), (t) => t.includes('is running') && !t.includes('asks for'));
    await eventually(() => { const s = bot.statusMessage(id); return s && allText(s).includes('Running'); }, 10_000, 'the status message to say Running');
    // finished: nothing still says it runs
    await allSay(id, 'the finish', (t) => t.includes('is succeeded') && !t.includes('is running'), (t) => t.includes('succeeded') && t.includes('Nothing to sign'));
    await eventually(() => { const s = bot.statusMessage(id); return s && allText(s).includes('Succeeded'); }, 10_000, 'the status message to say Succeeded');
    await eventually(() => !JSON.stringify(bot.slack.homeOf('U0SAM')?.blocks ?? []).includes(`"${id}:`), 5_000, "the finished deploy gone from Sam's Home");
  }, 30_000);

  it('reject: the gate and every DM say who rejected it and why', async () => {
    const { id, gate: g } = await request('v1.1.0');
    await bot.click(g, ACTIONS.reject, 'U0SAM');
    const opened = await eventually(() => bot.slack.callsTo('views.open').find((c) => (c.args.view as { private_metadata?: string }).private_metadata === id));
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    await bot.submitView({ ...view, state: { values: { [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: 'the canary is still red' } } } } }, 'U0SAM');
    await allSay(id, 'the rejection', (t) => t.includes('*Rejected* by <@U0SAM>'), (t) => t.includes('*rejected* by <@U0SAM>: the canary is still red') && !t.includes('asks for'));
  }, 20_000);

  it('withdraw: the gate and every DM say it was withdrawn and why', async () => {
    const { id, gate: g } = await request('v1.2.0');
    await withdrawVia(bot, g, id, 'U0ALICE', 'wrong branch, sorry');
    await allSay(id, 'the withdrawal', (t) => t.includes('*Withdrawn* by <@U0ALICE>'), (t) => t.includes('*withdrawn* by <@U0ALICE>: wrong branch, sorry'));
  }, 20_000);

  it('expire: the approver is asked again, and the others see the approval lapsed', async () => {
    const { id, gate: g } = await request('v1.3.0');
    await bot.click(g, `${ACTIONS.approve}:tech_lead`, 'U0TARA');
    await allSay(id, 'the approval', () => true, (t, u) => (u === 'U0TARA' ? t.includes('You approved') : t.includes('Approved by <@U0TARA>')));
    await allSay(id, 'the expiry', (t) => t.includes("<@U0TARA>'s approval as Tech Lead expired"), (t) =>
      t.includes("Expired: <@U0TARA>'s approval as Tech Lead") && t.includes('asks for your sign-off') && !t.includes('You approved') && !t.includes('Approved by'));
  }, 20_000);
});
