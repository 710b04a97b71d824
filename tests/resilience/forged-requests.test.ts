// Resilience row: forged, stale, replayed and oversized requests are refused by the receiver before any
// listener runs — no record, no audit entry, no Slack call, no log line from a handler, a 4xx answer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS, approveValue } from '../../blocks/action-ids.js';
import { blockActionsBody, slashCommandBody, viewSubmissionBody } from '../../playground/slack-standin/requests.js';
import { CHANNEL, SIGNING_SECRET, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { postSigned, signatureFor } from '../helpers/slack-requests.js';
import { ROWS, Tally, lostMessage } from './table.js';

const YAML = `
roles:
  engineers: { users: [U0DEV] }
  tech_lead: { users: [U0LEAD] }
environments:
  - name: staging
    deployers: [engineers]
    steps:
      - { name: Deploy, run: [node, -e, "console.log('up')"] }
  - name: production
    deployers: [engineers]
    approvals: { required: 1, roles: [tech_lead] }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('up')"] }
`;

let bot: TestBot;
let pendingId: string;

beforeAll(async () => {
  // App role only: a request that slipped through would leave a record, an audit entry or a log line.
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, role: 'app' });
  const res = await bot.command('/deploy', 'production v1.0.0', 'U0DEV');
  pendingId = /#(\d+)/.exec(res.json.text)?.[1] ?? '';
  // Let the request's own follow-ups (the gate message and DMs, queued for delivery: this process runs no
  // workers) finish before counting anything.
  await new Promise((ok) => setTimeout(ok, 1_000));
  await quiet();
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

/** Waits until the bot has made no Slack call for half a second. */
async function quiet(): Promise<void> {
  let seen = -1;
  while (seen !== bot.slack.calls.length) {
    seen = bot.slack.calls.length;
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

/** A request of each kind a listener handles, aimed so that reaching the listener would change something. */
function bodies(pad = ''): Array<[string, string]> {
  const responseUrl = bot.slack.responseUrlFor({ user: 'U0DEV', channel: CHANNEL });
  const extra = pad ? `&pad=${pad}` : '';
  const padded = (payload: string) => (pad ? `${payload}&pad=${pad}` : payload);
  return [
    ['/deploy', slashCommandBody({ command: '/deploy', text: 'staging v9.9.9', user_id: 'U0DEV', channel_id: CHANNEL, response_url: responseUrl }) + extra],
    ['/rollback', slashCommandBody({ command: '/rollback', text: 'staging', user_id: 'U0DEV', channel_id: CHANNEL, response_url: responseUrl }) + extra],
    ['/deploys', slashCommandBody({ command: '/deploys', text: '', user_id: 'U0DEV', channel_id: CHANNEL, response_url: responseUrl }) + extra],
    ['approve button', padded(blockActionsBody({ user: { id: 'U0LEAD' }, channel: { id: CHANNEL }, message: { ts: '1.000001' }, actions: [{ action_id: `${ACTIONS.approve}:tech_lead`, value: approveValue(pendingId, 'tech_lead') }], response_url: responseUrl }))],
    ['withdraw button', padded(blockActionsBody({ user: { id: 'U0DEV' }, channel: { id: CHANNEL }, message: { ts: '1.000001' }, actions: [{ action_id: ACTIONS.cancelDeploy, value: pendingId }], response_url: responseUrl }))],
    ['reject submission', padded(viewSubmissionBody({ user: { id: 'U0LEAD' }, view: { callback_id: VIEWS.rejectReason, private_metadata: pendingId, state: { values: { [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: 'forged rejection reason' } } } } } }))],
  ];
}

const now = () => Math.floor(Date.now() / 1000);
const FIVE_MB = 'x'.repeat(5 * 1024 * 1024);

/** Every way a request can fail the receiver's checks. */
const ATTACKS: Array<[string, (body: string) => Parameters<typeof postSigned>[2]]> = [
  ['forged (wrong secret)', () => ({ secret: `${SIGNING_SECRET}-guess` })],
  ['unsigned', () => ({ secret: SIGNING_SECRET, signature: {} })],
  ['malformed signature', () => ({ secret: SIGNING_SECRET, signature: { 'x-slack-signature': 'v0=zz', 'x-slack-request-timestamp': String(now()) } })],
  ['stale (signed 6 min ago)', () => ({ secret: SIGNING_SECRET, timestampSec: now() - 6 * 60 })],
  // Captured 10 minutes ago and sent again unchanged: same body, same signature, its old timestamp.
  ['replayed (old timestamp)', (body) => ({ secret: SIGNING_SECRET, signature: signatureFor(body, SIGNING_SECRET, now() - 10 * 60) })],
  // The same capture with the timestamp header rewritten to pass the age check: the signature no longer fits.
  ['replayed (timestamp rewritten)', (body) => ({ secret: SIGNING_SECRET, signature: { 'x-slack-signature': signatureFor(body, SIGNING_SECRET, now() - 10 * 60)['x-slack-signature'], 'x-slack-request-timestamp': String(now()) } })],
];

it(ROWS.forged, async ({ task }) => {
  const tally = new Tally('forged');
  const { store, redis } = bot.shipmate.deps;
  const seqKey = `${bot.prefix}:seq:deploy`;
  const state = async () => ({
    seq: await redis.get(seqKey),
    rev: (await store.get(pendingId))?.rev,
    audit: await redis.xlen(`${bot.prefix}:audit`),
    calls: bot.slack.calls.length,
    handlerLines: bot.logs.lines().filter((l) => l.command !== undefined || l.action !== undefined).length,
  });

  const attempts: Array<[string, string, Parameters<typeof postSigned>[2]]> = [];
  for (const [attack, opts] of ATTACKS) for (const [kind, body] of bodies()) attempts.push([`${attack} ${kind}`, body, opts(body)]);
  for (const [kind, body] of bodies(FIVE_MB)) attempts.push([`oversized (5 MB, signed) ${kind}`, body, { secret: SIGNING_SECRET }]);

  for (const [what, body, opts] of attempts) {
    const before = await state();
    const res = await postSigned(bot.url, body, opts).catch((err: NodeJS.ErrnoException) => ({ status: 0, text: err.code ?? err.message, ms: 0 }));
    // Refusing a 5 MB body may mean answering 413 and closing the connection before the sender has
    // finished writing; the sender then sees the connection reset, which is a refusal too.
    const closedOnUs = what.startsWith('oversized') && res.status === 0 && ['EPIPE', 'ECONNRESET'].includes(res.text);
    await new Promise((ok) => setTimeout(ok, 30)); // a listener that slipped through acks first, then works
    const after = await state();
    tally.check(what, [
      !closedOnUs && (res.status < 400 || res.status >= 500) && `answered ${res.status || res.text}`,
      after.seq !== before.seq && 'a deploy was recorded',
      after.rev !== before.rev && 'the pending deploy changed',
      after.audit !== before.audit && 'an audit entry was written',
      after.calls !== before.calls && 'Slack was called',
      after.handlerLines !== before.handlerLines && 'a handler logged',
    ]);
  }
  const row = tally.record(task, `${ATTACKS.length + 1} kinds × ${bodies().length} requests`);

  // The detectors work: the same request, signed properly, does reach its listener.
  const before = await state();
  const control = await postSigned(bot.url, bodies()[0]?.[1] ?? '', { secret: SIGNING_SECRET });
  expect(control.status).toBe(200);
  expect((await state()).seq).not.toBe(before.seq);

  expect(row.lost, lostMessage(row)).toBe(0);
}, 60_000);
