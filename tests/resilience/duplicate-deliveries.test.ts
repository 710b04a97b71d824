// Resilience row: Slack redelivers a request it thinks timed out — the same signed body again, with
// x-slack-retry-num. Every command and every button, delivered twice (or three times), has exactly one
// effect: one deploy, one gate message, one round of DMs, one approval, one audit entry, one modal, one
// log entry. A person typing the same /deploy twice gets "already requested" instead of a second request.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS, WITHDRAW_REASON_BLOCK, WITHDRAW_REASON_INPUT } from '../../blocks/action-ids.js';
import { readDeployAudit } from '../../src/deploys/deploy-store.js';
import { slashCommandBody, viewSubmissionBody } from '../../playground/slack-standin/requests.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { CHANNEL, SIGNING_SECRET, allText, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { buttonClickBody, checkboxTickBody, deliverRepeatedly, type SentRequest } from '../helpers/slack-requests.js';
import { sleep } from '../helpers/chaos.js';
import { ROWS, Tally, lostMessage } from './table.js';

const quick = `steps:\n      - { name: Deploy, run: [node, -e, "console.log('up')"] }`;
const sections = Array.from({ length: 20 }, (_, i) => `      - section: Area ${i + 1}\n        items: [{ id: item${i + 1}, text: Area ${i + 1} checked }]`).join('\n');
const YAML = `
roles:
  engineers: { users: [U0DEV] }
  tech_lead: { label: Tech Lead, users: [U0LEAD] }
  security: { label: Security, users: [U0SEC] }
  product: { label: Product, users: [U0PROD] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    deployers: [engineers]
    postDeploySignoff: { role: product }
    ${quick}
  - name: production
    deployers: [engineers]
    checklist:
      - section: CI
        items:
          - { id: ci, text: CI green, check: { run: [node, -e, "process.exit(1)"] } }
${sections}
    approvals: { required: 2, roles: [tech_lead, security], distinctRoles: true, notify: dm }
    ${quick}
  - name: slow
    deployers: [engineers]
    steps:
      - { name: Wait, run: [sleep, "60"] }
`;

let bot: TestBot;
const running: string[] = [];

beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url });
});
afterAll(async () => {
  for (const id of running) await bot?.shipmate.deps.deploys.cancel(id, 'U0DEV').catch(() => undefined);
  for (const id of running) await waitForEnd(bot, id).catch(() => undefined);
  await bot?.stop();
  await stopRedis();
});

const idOf = (text: unknown) => /#(\d+)/.exec(String(text ?? ''))?.[1] ?? '';

it(ROWS.duplicates, async ({ task }) => {
  const tally = new Tally('duplicates');
  const { store, redis } = bot.shipmate.deps;
  const records = async () => {
    const seq = Number(await redis.get(`${bot.prefix}:seq:deploy`));
    return store.getMany(Array.from({ length: seq }, (_, i) => String(i + 1)));
  };
  const responseUrl = (user: string, ts?: string) => bot.slack.responseUrlFor({ user, channel: CHANNEL, ts });
  const commandBody = (command: string, text: string, user = 'U0DEV') => slashCommandBody({ command, text, user_id: user, channel_id: CHANNEL, response_url: responseUrl(user) });
  const deliver = (body: string, times = 2) => deliverRepeatedly(bot.url, body, SIGNING_SECRET, times);
  const answered = (res: SentRequest[]) => res.map((r, n) => r.status !== 200 && `delivery ${n + 1} answered ${r.status}`);
  /** Audit entries on a deploy with this action (or '*': any action) by this user (or anyone). */
  const audits = async (id: string, action: string, user?: string) => (await readDeployAudit(redis, bot.prefix, id)).filter((e) => (action === '*' || e.action === action) && (!user || e.user === user)).length;
  const settle = () => sleep(800);
  const gateOf = (id: string, until: (m: StandinMessage) => boolean = () => true) =>
    eventually(() => {
      const m = bot.slack.messages(CHANNEL).find((x) => headerText(x).includes(`Gates for deploy #${id} `));
      return m && until(m) ? m : undefined;
    }, 15_000, `gate message of #${id}`);
  const request = async (text: string) => idOf((await bot.command('/deploy', text, 'U0DEV')).json?.text);

  // Commands.
  {
    const res = await deliver(commandBody('/deploy', 'staging v1'), 3);
    await settle();
    const made = (await records()).filter((r) => r.env === 'staging' && r.version === 'v1');
    tally.check('/deploy staging v1 (ungated) ×3', [...answered(res), made.length !== 1 && `${made.length} deploys`]);
    for (const r of made) await waitForEnd(bot, r.id);
  }
  await waitForEnd(bot, await request('staging v2'));
  {
    const res = await deliver(commandBody('/deploy', 'production v1'));
    await sleep(2000);
    const made = (await records()).filter((r) => r.env === 'production' && r.version === 'v1');
    const gates = bot.slack.messages(CHANNEL).filter((m) => made.some((r) => headerText(m).includes(`Gates for deploy #${r.id} `)));
    const dms = bot.slack.callsTo('chat.postMessage').filter((c) => /^U/.test(String(c.args.channel)) && made.some((r) => String(c.args.text).includes(`deploy #${r.id}:`)));
    tally.check('/deploy production v1 (gated) ×2', [...answered(res), made.length !== 1 && `${made.length} deploys`, gates.length !== 1 && `${gates.length} gate messages`, dms.length !== 2 && `${dms.length} DMs to the 2 approvers`]);
  }
  {
    const before = (await records()).length;
    // /rollback only asks ("Roll back staging from … to …?"); the [Roll back] click does it. Both delivered twice.
    const res = await deliver(commandBody('/rollback', 'staging'));
    await settle();
    const asked = (await records()).slice(before).filter((r) => r.kind === 'rollback');
    const question = { channel: CHANNEL, ts: '', text: String(res[0]?.json?.text ?? ''), blocks: res[0]?.json?.blocks as unknown[] | undefined };
    const clicks = await deliver(buttonClickBody(question, ACTIONS.rollbackConfirm, 'U0DEV', responseUrl('U0DEV')));
    await settle();
    const made = (await records()).slice(before).filter((r) => r.kind === 'rollback');
    tally.check('/rollback staging ×2, then [Roll back] ×2', [...answered(res), ...answered(clicks), asked.length !== 0 && `${asked.length} rollbacks before the confirmation`, made.length !== 1 && `${made.length} rollbacks`]);
    for (const r of made) await waitForEnd(bot, r.id).catch(() => undefined);
  }
  {
    const before = (await records()).length;
    const res = await deliver(commandBody('/deploys', ''));
    await settle();
    tally.check('/deploys ×2', [...answered(res), (await records()).length !== before && 'a deploy was recorded']);
  }
  {
    const first = await bot.command('/deploy', 'production v3', 'U0DEV');
    const second = await bot.command('/deploy', 'production v3', 'U0DEV');
    await settle();
    const made = (await records()).filter((r) => r.env === 'production' && r.version === 'v3');
    tally.check('/deploy production v3 typed twice', [
      first.status !== 200 && `answered ${first.status}`,
      made.length !== 1 && `${made.length} sign-off requests`,
      !/already requested/i.test(String(second.json?.text)) && `second reply: ${String(second.json?.text).slice(0, 80)}`,
      !String(second.json?.text).includes(`#${made[0]?.id}`) && 'second reply does not name the first deploy',
    ]);
  }

  // Buttons on a pending production deploy (its automatic check has failed, so "Re-run checks" shows).
  const a = await request('production v4');
  let gate = await gateOf(a, (m) => allText(m).includes(ACTIONS.rerunChecks));
  {
    const res = await deliver(buttonClickBody(gate, `${ACTIONS.approve}:tech_lead`, 'U0LEAD', responseUrl('U0LEAD', gate.ts)));
    await settle();
    const r = await store.get(a);
    tally.check('Approve ×2', [...answered(res), r?.gates?.approvals.filter((x) => x.user === 'U0LEAD').length !== 1 && 'approval count', (await audits(a, '*', 'U0LEAD')) !== 1 && `${await audits(a, '*', 'U0LEAD')} audit entries (approval.given once)`]);
  }
  gate = await gateOf(a);
  {
    const res = await deliver(checkboxTickBody(gate, 'item1', 'U0DEV', responseUrl('U0DEV', gate.ts)));
    await settle();
    tally.check('checklist tick ×2', [...answered(res), (await audits(a, 'checklist.ticked')) !== 1 && `${await audits(a, 'checklist.ticked')} checklist.ticked entries`]);
  }
  gate = await gateOf(a);
  {
    const rev = (await store.get(a))?.rev ?? 0;
    const updates = bot.slack.callsTo('chat.update').filter((c) => c.args.ts === gate.ts).length;
    const res = await deliver(buttonClickBody(gate, `${ACTIONS.gatePage}:next`, 'U0DEV', responseUrl('U0DEV', gate.ts)));
    await settle();
    const writes = ((await store.get(a))?.rev ?? 0) - rev;
    const redrawn = bot.slack.callsTo('chat.update').filter((c) => c.args.ts === gate.ts).length - updates;
    tally.check('gate paging ×2', [...answered(res), writes !== 1 && `${writes} writes`, redrawn !== 1 && `${redrawn} redraws`]);
  }
  gate = await gateOf(a, (m) => allText(m).includes(ACTIONS.rerunChecks));
  {
    const failedBefore = await audits(a, 'checklist.auto-failed');
    const res = await deliver(buttonClickBody(gate, ACTIONS.rerunChecks, 'U0DEV', responseUrl('U0DEV', gate.ts)));
    await sleep(3000);
    const ran = (await audits(a, 'checklist.auto-failed')) - failedBefore;
    tally.check('Re-run checks ×2', [...answered(res), ran !== 1 && `the checks ran ${ran} times`]);
  }

  // Reject: the button opens one modal; the modal's submission rejects once.
  const b = await request('production v5');
  gate = await gateOf(b);
  {
    const opened = bot.slack.callsTo('views.open').length;
    const res = await deliver(buttonClickBody(gate, ACTIONS.reject, 'U0LEAD', responseUrl('U0LEAD', gate.ts)));
    await settle();
    const n = bot.slack.callsTo('views.open').length - opened;
    tally.check('Reject button ×2', [...answered(res), n !== 1 && `${n} modals opened`]);
  }
  {
    const body = viewSubmissionBody({ user: { id: 'U0LEAD' }, view: { callback_id: VIEWS.rejectReason, private_metadata: b, state: { values: { [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: 'the migration has no rollback' } } } } } });
    const res = await deliver(body);
    await settle();
    // The requester is told by DM (through the delivery queue): wait for it, then count.
    const toldDms = () => bot.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U0DEV' && String(c.args.text).includes(`deploy #${b} `) && /rejected/.test(String(c.args.text))).length;
    await eventually(() => toldDms() > 0, 10_000, 'the requester to be told').catch(() => undefined);
    await settle();
    const told = toldDms();
    const logged = (await store.recentLog(100)).filter((e) => e.deployId === b).length;
    tally.check('reject modal submission ×2', [...answered(res), (await audits(b, '*', 'U0LEAD')) !== 1 && `${await audits(b, '*', 'U0LEAD')} audit entries (deploy.rejected once)`, told !== 1 && `requester told ${told} times`, logged !== 1 && `${logged} log entries`]);
  }

  // Withdraw on a pending deploy; Stop on a running one; Cancel on a queued one.
  const c = await request('production v6');
  gate = await gateOf(c);
  const r1 = await request('slow v1');
  running.push(r1);
  await eventually(async () => (await store.get(r1))?.status === 'running', 10_000);
  const q1 = await request('slow v2');
  running.push(q1);
  const statusOf = (id: string) => eventually(() => bot.statusMessage(id), 10_000, `status message of #${id}`);
  {
    // Withdraw asks for a reason in a modal; its submission is what withdraws, delivered twice here.
    const before = await audits(c, '*', 'U0DEV');
    const body = viewSubmissionBody({ user: { id: 'U0DEV' }, view: { callback_id: VIEWS.withdrawReason, private_metadata: c, state: { values: { [WITHDRAW_REASON_BLOCK]: { [WITHDRAW_REASON_INPUT]: { type: 'plain_text_input', value: 'superseded by v7' } } } } } });
    const res = await deliver(body);
    await settle();
    const entries = (await audits(c, '*', 'U0DEV')) - before;
    const logged = (await store.recentLog(100)).filter((e) => e.deployId === c).length;
    tally.check('Withdraw (reason modal) ×2', [...answered(res), entries !== 1 && `${entries} audit entries`, logged !== 1 && `${logged} log entries`]);
  }
  for (const [what, id, message] of [['Stop (running)', r1, await statusOf(r1)], ['Cancel (queued)', q1, await statusOf(q1)]] as const) {
    const before = await audits(id, '*', 'U0DEV');
    const res = await deliver(buttonClickBody(message, ACTIONS.cancelDeploy, 'U0DEV', responseUrl('U0DEV', message.ts)));
    await settle();
    const entries = (await audits(id, '*', 'U0DEV')) - before;
    const logged = (await store.recentLog(100)).filter((e) => e.deployId === id).length;
    tally.check(`${what} ×2`, [...answered(res), entries !== 1 && `${entries} audit entries`, what !== 'Stop (running)' && logged !== 1 && `${logged} log entries`]);
  }

  // The post-deploy sign-off on the succeeded staging deploy.
  const s = (await records()).find((r) => r.env === 'staging' && r.version === 'v2' && r.kind !== 'rollback')?.id ?? '';
  const status = await eventually(() => {
    const m = bot.statusMessage(s);
    return m && allText(m).includes(ACTIONS.postDeploySignoff) ? m : undefined;
  }, 10_000, 'the sign-off button');
  {
    const res = await deliver(buttonClickBody(status, ACTIONS.postDeploySignoff, 'U0PROD', responseUrl('U0PROD', status.ts)));
    await settle();
    const posts = bot.slack.messages('C0DEPLOYLOG').filter((m) => String(m.text).includes(`Deploy #${s} `) && String(m.text).includes('sign-off')).length;
    tally.check('post-deploy sign-off ×2', [...answered(res), (await audits(s, '*', 'U0PROD')) !== 1 && `${await audits(s, '*', 'U0PROD')} audit entries (signoff.given once)`, posts !== 1 && `${posts} sign-off posts`]);
  }

  const row = tally.record(task, `${tally.tried} commands and buttons, each delivered 2–3 times`);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 150_000);
