// Resilience row: every command that needs a role, and every button and modal on a deploy's messages, tried by
// a user who holds no role: refused (nothing changes), told so privately, and audited — every time.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS } from '../../blocks/action-ids.js';
import { readAudit, type DeployRecord } from '../../src/deploys/deploy-store.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { interactiveElements } from '../helpers/interactive.js';
import { ROWS, Tally, lostMessage } from './table.js';

const OUTSIDER = 'U0MALLORY';
const quick = `steps:\n      - { name: Deploy, run: [node, -e, "console.log('up')"] }`;
// Enough one-item sections that the gate message pages (so the paging buttons are tried too).
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
    aliases: [prod]
    deployers: [engineers]
    checklist:
      - section: CI
        items:
          - { id: ci, text: CI green, check: { run: [node, -e, "process.exit(1)"] } }
${sections}
    approvals: { required: 2, roles: [tech_lead, security], distinctRoles: true }
    ${quick}
  - name: slow
    deployers: [engineers]
    steps:
      - { name: Wait, run: [sleep, "60"] }
`;

let bot: TestBot;
const ids: Record<string, string> = {};

const idOf = (text: string) => /#(\d+)/.exec(text)?.[1] ?? '';

beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url });
  for (const v of ['v1', 'v2']) {
    ids[`staging ${v}`] = idOf((await bot.command('/deploy', `staging ${v}`, 'U0DEV')).json.text);
    await waitForEnd(bot, ids[`staging ${v}`] ?? '');
  }
  ids.production = idOf((await bot.command('/deploy', 'prod v2', 'U0DEV')).json.text);
  ids.running = idOf((await bot.command('/deploy', 'slow v1', 'U0DEV')).json.text);
  await eventually(async () => (await bot.shipmate.deps.store.get(ids.running ?? ''))?.status === 'running', 10_000, 'slow deploy to run');
  ids.queued = idOf((await bot.command('/deploy', 'slow v2', 'U0DEV')).json.text);
}, 60_000);
afterAll(async () => {
  // Stop the 60 s step first: a worker shutting down waits for the step it runs.
  for (const id of [ids.queued, ids.running]) if (id) await bot?.shipmate.deps.deploys.cancel(id, 'U0DEV').catch(() => undefined);
  if (ids.running) await waitForEnd(bot, ids.running).catch(() => undefined);
  await bot?.stop();
  await stopRedis();
});

/** What a refused attempt must leave alone. */
function essence(r: DeployRecord | undefined): string {
  return JSON.stringify(r && { status: r.status, gates: r.gates && { ...r.gates, gateTs: undefined }, cancelRequestedBy: r.cancelRequestedBy, cancelledBy: r.cancelledBy });
}

it(ROWS.unauthorized, async ({ task }) => {
  const tally = new Tally('unauthorized');
  const { store, redis } = bot.shipmate.deps;
  const audits = async () => (await readAudit(redis, bot.prefix, 10_000)).filter((e) => e.user === OUTSIDER && /refus/.test(e.action)).length;
  const told = () => bot.slack.ephemerals(OUTSIDER).length;

  // The messages whose buttons are tried, once each is in the state that shows them.
  const gate = await eventually(() => {
    const m = bot.slack.messages(CHANNEL).find((x) => headerText(x).includes(`Gates for deploy #${ids.production} `));
    return m && interactiveElements(m).some((e) => e.action_id.includes('rerun')) ? m : undefined;
  }, 15_000, 'the production gate message with its failed check');
  const status = (id: string, until: (m: StandinMessage) => boolean) =>
    eventually(() => {
      const m = bot.statusMessage(id);
      return m && until(m) ? m : undefined;
    }, 10_000, `status message of #${id}`);
  const hasButtons = (m: StandinMessage) => interactiveElements(m).length > 0;
  const messages: Array<[string, StandinMessage, string]> = [
    ['production gate message', gate, ids.production ?? ''],
    ['running deploy', await status(ids.running ?? '', hasButtons), ids.running ?? ''],
    ['queued deploy', await status(ids.queued ?? '', hasButtons), ids.queued ?? ''],
    ['succeeded staging deploy', await status(ids['staging v2'] ?? '', hasButtons), ids['staging v2'] ?? ''],
  ];

  for (const [command, text] of [['/deploy', 'staging v3'], ['/deploy', 'prod v2'], ['/deploy', 'slow v3'], ['/rollback', 'staging'], ['/rollback', 'staging v1'], ['/rollback', 'prod']] as const) {
    const [seq, audited] = [await redis.get(`${bot.prefix}:seq:deploy`), await audits()];
    const res = await bot.command(command, text, OUTSIDER);
    const refusedAndAudited = await eventually(async () => (await audits()) > audited, 3_000).catch(() => false);
    tally.check(`${command} ${text}`, [
      res.status !== 200 && `answered ${res.status}`,
      !/^:no_entry:/.test(res.json?.text ?? '') && `reply was not a refusal: ${String(res.json?.text).slice(0, 80)}`,
      (await redis.get(`${bot.prefix}:seq:deploy`)) !== seq && 'a deploy was recorded',
      !refusedAndAudited && 'not audited',
    ]);
  }

  for (const [where, message, deployId] of messages) {
    for (const el of interactiveElements(message)) {
      const before = essence(await store.get(deployId));
      const [audited, toldBefore] = [await audits(), told()];
      let res;
      if (el.type === 'checkboxes') {
        const item = el.options?.find((o) => !el.initial_options?.some((i) => i.value === o.value));
        res = await bot.tick(message, item?.value ?? '', OUTSIDER);
      } else {
        res = await bot.click(message, el.action_id, OUTSIDER, el.value);
      }
      const wasAudited = await eventually(async () => (await audits()) > audited, 3_000).catch(() => false);
      const wasTold = await eventually(() => told() > toldBefore, 3_000).catch(() => false);
      await new Promise((ok) => setTimeout(ok, 100));
      tally.check(`${el.action_id} on the ${where}`, [
        res.status !== 200 && `answered ${res.status}`,
        essence(await store.get(deployId)) !== before && 'the deploy changed',
        !wasAudited && 'not audited',
        !wasTold && 'not told privately',
      ]);
    }
  }

  // The reject modal submitted by someone who could never have opened it.
  const before = essence(await store.get(ids.production ?? ''));
  const audited = await audits();
  const res = await bot.submitView({ callback_id: VIEWS.rejectReason, private_metadata: ids.production, state: { values: { [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: 'I do not like it' } } } } }, OUTSIDER);
  const wasAudited = await eventually(async () => (await audits()) > audited, 3_000).catch(() => false);
  tally.check('reject modal submission', [
    res.status !== 200 && `answered ${res.status}`,
    essence(await store.get(ids.production ?? '')) !== before && 'the deploy changed',
    !wasAudited && 'not audited',
    res.json?.response_action !== 'errors' && bot.slack.ephemerals(OUTSIDER).length === 0 && 'not told',
  ]);

  const row = tally.record(task, `${tally.tried} commands, buttons and modals`);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 120_000);
