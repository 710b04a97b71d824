// No secret leaks anywhere: one value planted in every output path (step output and stderr, argv, HTTP
// step URLs and bodies, automatic command and HTTP checks, a reject reason, a ref typed in a command) is
// then searched for in everything the Slack stand-in received, every Redis key, and every log line.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT } from '../../blocks/action-ids.js';
import { isFinal } from '../../src/deploys/deploy-store.js';
import { BOT_TOKEN, SIGNING_SECRET, allText, deployIdFrom, dmsTo, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

// '+' and '/' so its URL-encoded form differs from the value itself; still a valid git ref.
const SECRET = 'planted+Secret/7Qx93kLm';
const FORMS = [SECRET, encodeURIComponent(SECRET), new URLSearchParams({ v: SECRET }).toString().slice(2)];

const YAML = `
secrets: [DEPLOY_TOKEN]
roles:
  approvers: { users: [U0BOB] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    aliases: [stage]
    steps:
      - name: Print
        run: [node, -e, "console.log('out', process.env.DEPLOY_TOKEN); console.error('err', process.env.DEPLOY_TOKEN)"]
      - name: Health
        http: { url: "\${ECHO_URL}/ok?token=\${DEPLOY_TOKEN}", json: { path: status, equals: healthy } }
      - name: Smoke
        http: { url: "\${ECHO_URL}/fail?token=\${DEPLOY_TOKEN}" }
  - name: dev
    steps:
      - name: Broken
        run: [node, -e, "console.error('cannot deploy with', process.argv[1]); process.exit(3)", "\${DEPLOY_TOKEN}", "{{ref}}"]
  - name: prod
    checklist:
      - section: Checks
        items:
          - { id: cmd, text: Command check, check: { run: [node, -e, "console.log('token was', process.env.DEPLOY_TOKEN); process.exit(1)"] } }
          - { id: web, text: HTTP check, check: { http: "\${ECHO_URL}/check?token=\${DEPLOY_TOKEN}" } }
    approvals: { required: 1, roles: [approvers] }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('never runs')"] }
`;

let server: Server;
let bot: TestBot;
const acks: unknown[] = [];

beforeAll(async () => {
  // Echoes the token it was called with, as given and URL-encoded, in its answer.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://echo');
    // Read as written (searchParams would turn its '+' into a space).
    const token = decodeURIComponent(/[?&]token=([^&]*)/.exec(url.search)?.[1] ?? '');
    const echo = `${token} ${encodeURIComponent(token)}`;
    if (url.pathname === '/ok') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'healthy', echo }));
    if (url.pathname === '/fail') return void res.writeHead(500).end(`denied for ${echo}`);
    res.writeHead(409).end(`red for ${echo}`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  // Shipmate's own credentials in its environment too: they must not leak either.
  const env = { DEPLOY_TOKEN: SECRET, ECHO_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET };
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, env });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
  await new Promise<void>((ok) => server.close(() => ok()));
});

async function command(text: string, user = 'U0ALICE'): Promise<string> {
  const res = await bot.command('/deploy', text, user);
  acks.push(res.json);
  return String((res.json as { text?: string }).text ?? '');
}

/** Every key in the test's Redis server, read by its type (BullMQ's keys included), as text. */
async function dumpRedis(redis: Redis): Promise<{ text: string; types: Set<string> }> {
  const parts: string[] = [];
  const types = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      types.add(type);
      let value: unknown;
      if (type === 'string') value = await redis.getBuffer(key);
      else if (type === 'hash') value = await redis.hgetallBuffer(key);
      else if (type === 'list') value = await redis.lrangeBuffer(key, 0, -1);
      else if (type === 'set') value = await redis.smembersBuffer(key);
      else if (type === 'zset') value = await redis.zrangeBuffer(key, 0, -1);
      else if (type === 'stream') value = await redis.xrangeBuffer(key, '-', '+');
      else if (type !== 'none') throw new Error(`key ${key} has a type this test does not read: ${type}`);
      parts.push(key, flatten(value));
    }
  } while (cursor !== '0');
  return { text: parts.join('\n'), types };
}

function flatten(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(flatten).join(' ');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${flatten(v)}`).join(' ');
  return String(value ?? '');
}

function leaks(where: string, text: string): string[] {
  return [...FORMS, BOT_TOKEN, SIGNING_SECRET].filter((f) => text.includes(f)).map((f) => `${where} contains ${f}`);
}

describe('secrets', () => {
  it('are found nowhere: not in Slack, not in any Redis key, not in the logs', async () => {
    // Step output and stderr, an HTTP step's URL and JSON body, an HTTP step failing with the body echoed.
    const stage = deployIdFrom(await command('stage v1.0.0'));
    // A ref typed in Slack that is the secret, and a step whose argv and stderr carry it.
    const dev = deployIdFrom(await command(`dev ${SECRET}`));
    // A command with the secret where an environment name belongs.
    await command(`nowhere-${SECRET}`);
    // Automatic checks: a command whose last line prints it, an HTTP check whose URL and body carry it.
    const prod = deployIdFrom(await command('prod v1.0.0'));

    expect((await waitForEnd(bot, stage)).status).toBe('failed');
    expect((await waitForEnd(bot, dev)).status).toBe('failed');
    const gate = await eventually(() => {
      const m = bot.slack.messages().find((x) => headerText(x).includes(`Gates for deploy #${prod} `));
      return m && (allText(m).match(/check failed|exited 1/g) ?? []).length >= 2 ? m : undefined;
    }, 15_000, 'both automatic checks to fail');
    // A reject reason typed by an approver.
    await bot.click(gate, ACTIONS.reject, 'U0BOB');
    const opened = await eventually(() => bot.slack.callsTo('views.open').find((c) => (c.args.view as { private_metadata?: string }).private_metadata === prod));
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    const reason = { [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: `the plan prints ${SECRET} in clear` } } };
    await bot.submitView({ ...view, state: { values: reason } }, 'U0BOB');
    expect((await waitForEnd(bot, prod)).status).toBe('rejected');
    await eventually(() => dmsTo(bot.slack, 'U0ALICE').find((m) => (m.text ?? '').includes('rejected your deploy')), 10_000, 'the requester to be told');
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').length === 3, 10_000, 'three deployment-log entries');
    await eventually(async () => (await bot.shipmate.deps.store.active()).every((r) => isFinal(r.status)) || undefined);

    // What was said is there, masked: the searches below look at real content.
    const slackText = JSON.stringify(bot.slack.calls);
    expect(slackText).toContain('out ••••••');
    expect(slackText).toContain('the plan prints •••••• in clear');
    const { text: redisText, types } = await dumpRedis(bot.shipmate.deps.redis);
    expect([...types]).toEqual(expect.arrayContaining(['string', 'hash', 'zset', 'stream']));
    expect(redisText).toContain('••••••');
    expect(bot.logs.raw()).toContain('••••••');

    const state = await (await fetch(`${bot.slack.origin}/_standin/state`)).text();
    expect([
      ...leaks('Slack calls', slackText),
      ...leaks('Slack state', state),
      ...leaks('acks', JSON.stringify(acks)),
      ...leaks('Redis', redisText),
      ...leaks('logs', bot.logs.raw()),
    ]).toEqual([]);
  }, 40_000);
});
