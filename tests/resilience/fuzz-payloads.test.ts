// Resilience row: fast-check interaction payloads — block_actions for every button and checkbox Shipmate
// handles, and the reject modal's view_submission — with fields missing, of the wrong type or pointing at
// deploys that do not exist, all properly signed. Each must be acknowledged within 3 s, and end in a clear
// reply or a logged refusal: no listener crash, no error log line, no unhandled rejection, no "something went
// wrong" reply, and nothing recorded or enqueued.
// The envelope Bolt routes on stays intact (a user id, at least one action with one of Shipmate's action ids,
// the modal's callback id): a payload Bolt cannot route never reaches Shipmate's listeners, and Bolt's own
// answer to it (no ack, 404 after 3 s) is not what this row measures.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS } from '../../blocks/action-ids.js';
import { CHANNEL, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { FuzzDriver, INTERNAL_ERROR, payloadRequest, short } from './fuzz-bot.js';
import { ROWS, Tally, lostMessage } from './table.js';

const SEED = Number(process.env.RESILIENCE_SEED ?? 8);
const CASES = Number(process.env.RESILIENCE_FUZZ_CASES ?? 2000);
const quick = `steps:\n      - { name: Deploy, run: [node, -e, "console.log('up')"] }`;
const YAML = `
roles:
  engineers: { users: [U0DEV] }
  tech_lead: { users: [U0LEAD] }
  product: { users: [U0PROD] }
environments:
  - name: staging
    deployers: [engineers]
    postDeploySignoff: { role: product }
    ${quick}
  - name: production
    deployers: [engineers]
    checklist:
      - section: Infra
        items:
          - { id: backups, text: Backups verified }
          - { id: ci, text: CI green, check: { run: [node, -e, "process.exit(1)"] } }
    approvals: { required: 1, roles: [tech_lead] }
    ${quick}
`;

let bot: TestBot;
let driver: FuzzDriver;
let pending = '';
let queued = '';

beforeAll(async () => {
  // App role: the queued deploy stays queued, so every case meets the same state.
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, role: 'app' });
  driver = new FuzzDriver(bot);
  pending = /#(\d+)/.exec((await bot.command('/deploy', 'production v1.0.0', 'U0DEV')).json.text)?.[1] ?? '';
  queued = /#(\d+)/.exec((await bot.command('/deploy', 'staging v1.0.0', 'U0DEV')).json.text)?.[1] ?? '';
  // Their follow-ups (gate message, DMs, status message) are only queued for delivery: this process runs no workers.
  await new Promise((ok) => setTimeout(ok, 1_000));
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), fc.constant({}));
const orJunk = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: junk });
const deployId = () => fc.constantFrom(pending, queued, '999', '0', '-1', 'abc', '1e3', '__proto__', '', ' 1');
const user = fc.record({ id: fc.constantFrom('U0NOBODY', 'U0OTHER', 'W0GUEST', 'U0EVE'), username: maybe(orJunk(fc.string({ maxLength: 8 }))), team_id: maybe(fc.constant('T0SHIPMATE')) }, { requiredKeys: ['id'] });
// Approve and paging buttons always carry a suffix (approve:<role>, page:next), as Shipmate renders them.
const plainActions = Object.values(ACTIONS).filter((a) => a !== ACTIONS.approve && a !== ACTIONS.gatePage);
const actionId = fc.constantFrom(...plainActions, `${ACTIONS.approve}:tech_lead`, `${ACTIONS.approve}:nope`, `${ACTIONS.approve}:`, `${ACTIONS.gatePage}:next`, `${ACTIONS.gatePage}:prev`);
const value = () => fc.oneof(deployId(), deployId().map((id) => `${id}:tech_lead`), deployId().map((id) => `${id}:1`), fc.string({ maxLength: 20 }));
const option = fc.record({ value: orJunk(fc.constantFrom('backups', 'ci', 'nope', '')), text: maybe(fc.record({ type: fc.constant('mrkdwn'), text: fc.string({ maxLength: 5 }) })) }, { requiredKeys: [] });
const action = () => fc.record({
  action_id: actionId,
  block_id: maybe(orJunk(fc.oneof(deployId().map((id) => `gate:${id}:0`), fc.constantFrom('gate:x:y', 'standin_block', '')))),
  type: maybe(orJunk(fc.constantFrom('button', 'checkboxes', 'static_select', 'overflow'))),
  value: maybe(orJunk(value())),
  selected_options: maybe(orJunk(fc.array(orJunk(option), { maxLength: 3 }))),
  action_ts: maybe(fc.constant('1700000000.000001')),
}, { requiredKeys: ['action_id'] });
const responseUrl = () => fc.constantFrom(bot.slack.responseUrlFor({ user: 'U0NOBODY', channel: CHANNEL }), 'http://127.0.0.1:9/gone', 'not a url', '');
const blocks = fc.oneof(fc.constant([]), fc.array(fc.record({ type: fc.constantFrom('actions', 'section'), block_id: maybe(fc.constantFrom('gate:1:0', 'x')), elements: maybe(fc.array(fc.record({ type: fc.constant('checkboxes'), action_id: fc.constant(ACTIONS.tickChecklist), options: fc.array(option, { maxLength: 2 }), initial_options: maybe(fc.array(option, { maxLength: 2 })) }), { maxLength: 1 })) }), { maxLength: 2 }), junk);

const blockActions = () => fc.record({
  type: fc.constant('block_actions'),
  user,
  api_app_id: fc.constant('A0SHIPMATE'),
  token: fc.constant('standin-verification-token'),
  team: fc.constant({ id: 'T0SHIPMATE', domain: 'shipmate' }),
  trigger_id: maybe(orJunk(fc.constant('1.U0NOBODY.abc'))),
  container: maybe(orJunk(fc.record({ type: fc.constantFrom('message', 'view'), message_ts: maybe(fc.constant('1.000001')), channel_id: maybe(fc.constant(CHANNEL)), view_id: maybe(fc.constant('V1')) }))),
  // Bolt itself reads channel.id: it may be missing or elsewhere, but is an object when present.
  channel: maybe(fc.record({ id: fc.constantFrom(CHANNEL, 'C0NOWHERE', 'D0DM'), name: maybe(fc.constant('releases')) }, { requiredKeys: ['id'] })),
  message: maybe(orJunk(fc.record({ ts: maybe(orJunk(fc.constant('1.000001'))), text: maybe(fc.string({ maxLength: 10 })), blocks: maybe(blocks) }, { requiredKeys: [] }))),
  view: maybe(orJunk(fc.record({ id: fc.constant('V1'), type: fc.constantFrom('home', 'modal'), blocks: maybe(blocks) }, { requiredKeys: [] }))),
  state: maybe(orJunk(fc.record({ values: junk }))),
  response_url: maybe(responseUrl()),
  actions: fc.array(action(), { minLength: 1, maxLength: 2 }),
}, { requiredKeys: ['type', 'user', 'api_app_id', 'token', 'team', 'actions'] });

const reason = fc.oneof(fc.constantFrom('the migration has no rollback', 'no', '', '    '), fc.string({ maxLength: 40 }), fc.constant('x'.repeat(5000)));
const stateValues = fc.oneof(
  reason.map((r) => ({ [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: r } } })),
  fc.constant({ [REJECT_REASON_BLOCK]: {} }),
  fc.constant({ [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: null } } }),
  junk,
);
const viewSubmission = () => fc.record({
  type: fc.constant('view_submission'),
  team: fc.constant({ id: 'T0SHIPMATE', domain: 'shipmate' }),
  user,
  api_app_id: fc.constant('A0SHIPMATE'),
  token: fc.constant('standin-verification-token'),
  trigger_id: maybe(fc.constant('1.U0NOBODY.abc')),
  view: fc.record({
    id: maybe(fc.constant('V1')),
    type: fc.constant('modal'),
    callback_id: fc.constant(VIEWS.rejectReason),
    private_metadata: maybe(orJunk(deployId())),
    state: maybe(orJunk(fc.record({ values: maybe(stateValues) }, { requiredKeys: [] }))),
    blocks: maybe(blocks),
  }, { requiredKeys: ['type', 'callback_id'] }),
  // Bolt itself reads response_urls[0]: an array when present.
  response_urls: maybe((fc.array(fc.record({ response_url: responseUrl(), block_id: fc.constant('b'), action_id: fc.constant('a'), channel_id: fc.constant(CHANNEL) }), { maxLength: 1 }))),
}, { requiredKeys: ['type', 'team', 'user', 'view', 'api_app_id', 'token'] });

it(ROWS.fuzzPayloads, async ({ task }) => {
  const tally = new Tally('fuzzPayloads');
  const cases = fc.sample(fc.oneof({ weight: 3, arbitrary: blockActions() }, { weight: 1, arbitrary: viewSubmission() }), { seed: SEED + 2, numRuns: CASES });
  const internalErrors = () => bot.slack.state().messages.filter((m: { text?: string }) => INTERNAL_ERROR.test(m.text ?? '')).length;
  for (const [i, payload] of cases.entries()) {
    const { form, parsed } = payloadRequest(payload);
    const before = internalErrors();
    // One in twenty goes through HTTP: a payload left unacknowledged costs 3 s there (Bolt's own timeout).
    const o = await driver.send(form, parsed, i % 20 === 0 ? 'http' : 'bolt');
    const first = (payload as { actions?: Array<{ action_id?: unknown }> }).actions?.[0]?.action_id;
    const label = payload.type === 'view_submission' ? `view_submission ${short((payload as { view: unknown }).view, 140)}` : `block_actions ${short(first, 40)} ${short(payload, 140)}`;
    tally.check(`${o.via} ${label}`, [
      !o.acked && `not acknowledged${o.status ? ` (HTTP ${o.status})` : ''}`,
      o.acked && o.ackMs >= 3000 && `acknowledged after ${Math.round(o.ackMs)} ms`,
      ...o.errors,
      internalErrors() > before && 'replied "something went wrong"',
      o.created.length > 0 && `created deploy #${o.created.join(', #')}`,
      o.jobsAdded > 0 && `enqueued ${o.jobsAdded} job(s)`,
    ]);
    await driver.clear(o.created);
  }
  const row = tally.record(task, `${CASES} payloads, ${CASES / 20} via HTTP; seed ${SEED + 2}`);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 180_000);
