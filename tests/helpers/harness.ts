// Test harness: a real redis-server, the Slack Web API stand-in and Shipmate's real Bolt HTTP receiver,
// driven with signed Slack-shaped requests. One Redis per test file, a unique key prefix per Shipmate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { createShipmate, type Shipmate, type ShipmateOptions } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { isFinal, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { createLogger } from '../../src/core/logger.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/core/redis.js';
import { blockActionsBody, sendToBot, slashCommandBody, viewSubmissionBody } from '../../playground/slack-standin/requests.js';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../playground/slack-standin/server.js';

export const SIGNING_SECRET = 'test-signing-secret-8f2a';
export const BOT_TOKEN = 'xoxb-test-token-123456';
export const CHANNEL = 'C0RELEASES';

let redisServer: EmbeddedRedis | undefined;
let redisDir: string | undefined;

/** One redis-server per test file (call in beforeAll; stopRedis in afterAll). */
export async function startRedis(): Promise<EmbeddedRedis> {
  redisDir = mkdtempSync(join(tmpdir(), 'shipmate-redis-'));
  redisServer = await startEmbeddedRedis({ dir: redisDir });
  return redisServer;
}

export async function stopRedis(): Promise<void> {
  await redisServer?.stop();
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
}

/** Collects log lines in memory so tests can assert on what was logged (and what was redacted). */
export function memoryLog(): { lines: () => Array<Record<string, unknown>>; raw: () => string; log: ReturnType<typeof createLogger> } {
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      done();
    },
  });
  return {
    log: createLogger({ level: 'debug', destination }),
    raw: () => raw,
    lines: () => raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let prefixCounter = 0;

export interface TestBot {
  shipmate: Shipmate;
  slack: SlackStandin;
  url: string;
  config: Config;
  logs: ReturnType<typeof memoryLog>;
  prefix: string;
  /** Sends a signed slash command; returns the HTTP response (the ack). */
  command(command: string, text: string, user?: string, channel?: string): Promise<Awaited<ReturnType<typeof sendToBot>>>;
  /** Clicks a button found in a message the bot posted (by action id), as `user`. */
  click(message: StandinMessage, actionId: string, user: string, value?: string): Promise<Awaited<ReturnType<typeof sendToBot>>>;
  /** Ticks (or unticks) one checklist item in a message or Home view the way Slack reports a checkbox click. */
  tick(source: { blocks?: unknown[]; channel?: string; ts?: string; viewId?: string }, itemId: string, user: string, checked?: boolean): Promise<Awaited<ReturnType<typeof sendToBot>>>;
  /** Clicks a button in a Home (or modal) view. */
  clickInView(view: { id: string; blocks: unknown[]; type?: string }, actionId: string, user: string, value?: string): Promise<Awaited<ReturnType<typeof sendToBot>>>;
  /** Sends the app_home_opened event for `user`. */
  homeOpened(user: string): Promise<Awaited<ReturnType<typeof sendToBot>>>;
  submitView(view: { id?: string; callback_id: string; private_metadata?: string; state: { values: Record<string, Record<string, unknown>> } }, user: string): Promise<Awaited<ReturnType<typeof sendToBot>>>;
  /** The deploy's status message in the channel (found by its header). */
  statusMessage(deployId: string, channel?: string): StandinMessage | undefined;
  stop(): Promise<void>;
}

export interface TestBotOptions {
  configYaml: string;
  redisUrl: string;
  slack?: SlackStandin;
  role?: ShipmateOptions['role'];
  prefix?: string;
  env?: NodeJS.ProcessEnv;
  worker?: ShipmateOptions['worker'];
  now?: () => number;
  /** Each repository's RefResolver (default: git). */
  resolvers?: ShipmateOptions['resolvers'];
  /** Message delivery pacing; tests default to short waits so they stay fast. */
  delivery?: ShipmateOptions['delivery'];
  /** GitHub settings (token, API URL of the GitHub stand-in, webhook secret); none: GitHub features are off. */
  github?: ShipmateOptions['github'];
}

export function headerText(m: StandinMessage): string {
  const header = (m.blocks as Array<{ type: string; text?: { text: string } }> | undefined)?.find((b) => b.type === 'header');
  return header?.text?.text ?? '';
}

/** Messages in the bot's DM with `user` (delivered as DMs: approval requests, notices to the requester). */
export function dmsTo(slack: SlackStandin, user: string): StandinMessage[] {
  const dm = [...slack.state().channels].find((c) => c.is_im && c.user === user);
  return dm ? slack.messages(dm.id) : [];
}

export function allText(m: StandinMessage): string {
  return JSON.stringify(m.blocks ?? []) + (m.text ?? '');
}

export async function startTestBot(opts: TestBotOptions): Promise<TestBot> {
  const slack = opts.slack ?? (await startSlackStandin({ token: BOT_TOKEN }));
  const ownsSlack = !opts.slack;
  const logs = memoryLog();
  const config = parseConfig(opts.configYaml, 'test.yml', opts.env ?? {});
  const prefix = opts.prefix ?? `t${process.pid}x${Date.now().toString(36)}x${prefixCounter++}`;
  const shipmate = await createShipmate({
    config,
    role: opts.role ?? 'all',
    redisUrl: opts.redisUrl,
    prefix,
    slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: slack.url },
    port: 0,
    host: '127.0.0.1',
    log: logs.log,
    env: { PATH: process.env.PATH, ...opts.env },
    worker: opts.worker ?? { lockDuration: 3_000, stalledInterval: 1_000 },
    now: opts.now,
    resolvers: opts.resolvers,
    delivery: { editPaceMs: 50, backoffMs: 100, maxBackoffMs: 1_000, timeoutMs: 3_000, ...opts.delivery },
    github: opts.github,
  });
  const { port } = await shipmate.start();
  const url = `http://127.0.0.1:${port}/slack/events`;
  return {
    shipmate,
    slack,
    url,
    config,
    logs,
    prefix,
    command: (command, text, user = 'U0ALICE', channel = CHANNEL) =>
      sendToBot(url, slashCommandBody({ command, text, user_id: user, channel_id: channel, response_url: slack.responseUrlFor({ user, channel }) }), SIGNING_SECRET),
    click: (message, actionId, user, value) => {
      const blocks = (message.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }>; block_id?: string }>;
      const element = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
      const body = blockActionsBody({
        user: { id: user },
        channel: { id: message.channel },
        message: { ts: message.ts, text: message.text, blocks: message.blocks } as never,
        actions: [{ action_id: actionId, value: value ?? element?.value }],
        response_url: slack.responseUrlFor({ user, channel: message.channel, ts: message.ts }),
      });
      return sendToBot(url, body, SIGNING_SECRET);
    },
    tick: (source, itemId, user, checked = true) => {
      type Cb = { block_id?: string; elements?: Array<{ type: string; action_id: string; options: Array<{ value: string }>; initial_options?: Array<{ value: string }> }> };
      const block = ((source.blocks ?? []) as Cb[]).find((b) => b.elements?.some((e) => e.type === 'checkboxes' && e.options.some((o) => o.value === itemId)));
      const element = block?.elements?.find((e) => e.type === 'checkboxes');
      if (!block || !element) throw new Error(`no checkbox for ${itemId}`);
      const initial = element.initial_options ?? [];
      const selected = checked ? [...initial.filter((o) => o.value !== itemId), element.options.find((o) => o.value === itemId)] : initial.filter((o) => o.value !== itemId);
      const action = { action_id: element.action_id, block_id: block.block_id, type: 'checkboxes', selected_options: selected };
      const body = source.viewId
        ? blockActionsBody({ user: { id: user }, view: { id: source.viewId, type: 'home', blocks: source.blocks }, actions: [action] })
        : blockActionsBody({
            user: { id: user },
            channel: { id: source.channel ?? CHANNEL },
            message: { ts: source.ts ?? '', blocks: source.blocks } as never,
            actions: [action],
            response_url: slack.responseUrlFor({ user, channel: source.channel ?? CHANNEL, ts: source.ts }),
          });
      return sendToBot(url, body, SIGNING_SECRET);
    },
    clickInView: (view, actionId, user, value) =>
      sendToBot(url, blockActionsBody({ user: { id: user }, view: { type: 'home', ...view }, actions: [{ action_id: actionId, value }] }), SIGNING_SECRET),
    homeOpened: (user) =>
      sendToBot(
        url,
        JSON.stringify({
          token: 'legacy-verification-token', team_id: 'T0SHIPMATE', api_app_id: 'A0SHIPMATE', type: 'event_callback',
          event_id: `Ev${Date.now()}${Math.floor(Math.random() * 1000)}`, event_time: Math.floor(Date.now() / 1000),
          event: { type: 'app_home_opened', user, channel: `D${user.slice(1)}`, tab: 'home', event_ts: (Date.now() / 1000).toFixed(6) },
        }),
        SIGNING_SECRET,
        { contentType: 'application/json' },
      ),
    submitView: (view, user) => sendToBot(url, viewSubmissionBody({ user: { id: user }, view: view as never }), SIGNING_SECRET),
    statusMessage: (deployId, channel = CHANNEL) => slack.messages(channel).find((m) => !m.thread_ts && headerText(m).includes(`Deploy #${deployId} `)),
    async stop() {
      await shipmate.stop();
      if (ownsSlack) await slack.close();
    },
  };
}

/** Polls until fn returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((ok) => setTimeout(ok, 40));
  }
}

/**
 * Registers beforeAll/afterAll that start one redis-server and one bot for the test file.
 * Returns a getter: the bot exists only once beforeAll has run.
 */
export function useTestBot(opts: Omit<TestBotOptions, 'redisUrl'>): () => TestBot {
  let bot: TestBot | undefined;
  beforeAll(async () => {
    bot = await startTestBot({ ...opts, redisUrl: (await startRedis()).url });
  });
  afterAll(async () => {
    await bot?.stop();
    await stopRedis();
  });
  return () => {
    if (!bot) throw new Error('the test bot is not started yet');
    return bot;
  };
}

/** The deploy number in a reply such as "… (deploy #12) …" or "rollback #3". */
export function deployIdFrom(text: string): string {
  const m = /(?:deploy|rollback) #(\d+)/i.exec(text);
  if (!m?.[1]) throw new Error(`no deploy number in: ${text}`);
  return m[1];
}

/** Waits until the deploy has ended (any final status) and returns its record. */
export async function waitForEnd(bot: Pick<TestBot, 'shipmate'>, id: string, timeoutMs = 20_000): Promise<DeployRecord> {
  return eventually(async () => {
    const r = await bot.shipmate.deps.store.get(id);
    return r && isFinal(r.status) ? r : undefined;
  }, timeoutMs, `deploy #${id} to end`);
}
