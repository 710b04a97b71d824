// The playground without a browser: what the page sends becomes signed Slack requests to the bot's normal endpoint,
// replies show up the way Slack shows them, modals and the App Home work, and nothing about signing is relaxed.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlayground, type Playground } from '../../playground/start.js';
import { parseConfig } from '../../src/core/config.js';
import { sendToBot, slashCommandBody } from '../../playground/slack-standin/requests.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { allText, eventually, headerText, memoryLog, startRedis, stopRedis } from '../helpers/harness.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let pg: Playground;
const logs = memoryLog();

beforeAll(async () => {
  const redisUrl = (await startRedis()).url;
  pg = await createPlayground({
    config: parseConfig(PIPELINE_YAML, 'test.yml', {}),
    redisUrl,
    log: logs.log,
    port: 0,
    prefix: `pg${process.pid}x${Date.now().toString(36)}`,
    env: { PATH: process.env.PATH },
    worker: { lockDuration: 3_000, stalledInterval: 1_000 },
  });
});
afterAll(async () => {
  await pg?.stop();
  await stopRedis();
});

async function api(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const res = await fetch(new URL(path, pg.url), body === undefined ? { headers } : {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
}
const state = async () => (await api('/api/state')).json;
const statusMessage = (messages: StandinMessage[], title: string) => messages.find((m) => !m.thread_ts && !m.ephemeral && headerText(m).includes(title));

describe('playground server', () => {
  it('listens on 127.0.0.1 only and serves the page, its script and styles', async () => {
    expect(pg.host).toBe('127.0.0.1');
    expect(pg.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(new URL(pg.botUrl).hostname).toBe('127.0.0.1');
    expect(new URL(pg.standin.origin).hostname).toBe('127.0.0.1');
    const page = await fetch(pg.url);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('Not for production');
    expect(html).toContain('/app.js');
    for (const [path, type] of [['/app.js', 'javascript'], ['/app.css', 'text/css']] as const) {
      const res = await fetch(new URL(path, pg.url));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
    // the bot's own health endpoint is reachable through the page's port (shipmate.yml's health checks use it)
    const health = await fetch(new URL('/healthz', pg.url));
    expect(health.status).toBe(200);
    expect(((await health.json()) as Json).ok).toBe(true);
  });

  it('lists the demo users with their roles from the config, and the channels', async () => {
    const s = await state();
    const alice = s.users.find((u: Json) => u.id === 'U0ALICE');
    expect(alice).toMatchObject({ demo: true, roles: ['Deployers'] });
    expect(s.users.find((u: Json) => u.id === 'U0OPS')).toMatchObject({ demo: true, roles: ['Ops'] });
    expect(s.channels.map((c: Json) => c.id)).toEqual(expect.arrayContaining(['C0RELEASES', 'C0DEPLOYLOG', 'C0ANNOUNCE']));
    expect(s.commands).toEqual(expect.arrayContaining(['/deploy', '/deploys']));
  });

  it('sends /deploy as a signed slash command: the ack shows privately to its user, the status message runs to Succeeded', async () => {
    const res = await api('/api/command', { user: 'U0ALICE', channel: 'C0RELEASES', text: '/deploy staging v1' });
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(true);
    expect(res.json.ack.text).toMatch(/Deploying `v1` to \*staging\*/);

    const s = await state();
    const ephemerals = s.messages.filter((m: Json) => m.ephemeral);
    const reply = ephemerals.find((m: Json) => m.text === res.json.ack.text);
    expect(reply).toMatchObject({ channel: 'C0RELEASES', ephemeral: { user: 'U0ALICE' } });
    expect(ephemerals.filter((m: Json) => m.ephemeral.user !== 'U0ALICE')).toEqual([]);
    expect(s.acks[reply.ts]).toBe('/deploy staging v1');

    const done = await eventually(async () => {
      const m = statusMessage((await state()).messages, 'v1 → staging');
      return m && allText(m).includes('Succeeded') ? m : undefined;
    }, 15_000, 'the status message to say Succeeded');
    expect(done.channel).toBe('C0RELEASES');
    expect(done.edited).toBeDefined();
    const log = await eventually(() => pg.standin.messages('C0DEPLOYLOG').find((m) => allText(m).includes('v1')), 5_000, 'the deploy-log entry');
    expect(allText(log)).toContain('<@U0ALICE>');
    // the bot really received a slash command on its Slack endpoint, and talked to the stand-in with its token
    expect(logs.lines().some((l) => l.command === '/deploy' && l.user === 'U0ALICE')).toBe(true);
    expect(pg.standin.callsTo('chat.postMessage').length).toBeGreaterThan(0);
  });

  it('sends a button click as block_actions with the message as stored: Cancel on a running deploy stops it', async () => {
    await api('/api/command', { user: 'U0BOB', channel: 'C0RELEASES', text: '/deploy long v2' });
    const running = await eventually(async () => {
      const m = statusMessage((await state()).messages, 'v2 → long');
      return m && allText(m).includes('Long* — running') ? m : undefined;
    }, 10_000, 'the long deploy to run its Long step');
    const actions = (running.blocks as Json[]).find((b) => b.type === 'actions')!;
    const button = actions.elements[0];
    const res = await api('/api/action', {
      user: 'U0BOB', channel: running.channel, message_ts: running.ts, action_id: button.action_id, block_id: actions.block_id, type: 'button', value: button.value, text: button.text,
    });
    expect(res.json).toEqual({ ok: true });
    await eventually(async () => {
      const m = statusMessage((await state()).messages, 'v2 → long');
      return m && allText(m).includes('Cancelled');
    }, 10_000, 'the long deploy to be cancelled');
  });

  it('opens modals from a click, shows the bot\'s validation errors, and closes the modal on an empty ack', async () => {
    const app = pg.shipmate.app!;
    app.action('pg_test_open', async ({ ack, body, client }) => {
      await ack();
      await client.views.open({
        trigger_id: (body as Json).trigger_id,
        view: {
          type: 'modal', callback_id: 'pg_test_modal', title: { type: 'plain_text', text: 'Reason' }, submit: { type: 'plain_text', text: 'Send' },
          blocks: [{ type: 'input', block_id: 'why', label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'why_input' } }],
        },
      });
    });
    const submitted: string[] = [];
    app.view('pg_test_modal', async ({ ack, view }) => {
      const value = view.state.values.why?.why_input?.value ?? '';
      submitted.push(value);
      if (value.length < 5) await ack({ response_action: 'errors', errors: { why: 'Say a bit more (5 characters at least).' } });
      else await ack();
    });
    const posted = await pg.shipmate.deps.slack.chat.postMessage({
      channel: 'C0RELEASES', text: 'test', blocks: [{ type: 'actions', block_id: 'pg', elements: [{ type: 'button', action_id: 'pg_test_open', text: { type: 'plain_text', text: 'Open' } }] }],
    });
    expect((await api('/api/action', { user: 'U0OPS', channel: 'C0RELEASES', message_ts: posted.ts, action_id: 'pg_test_open', block_id: 'pg', type: 'button' })).json.ok).toBe(true);
    const view = await eventually(async () => (await state()).views.find((v: Json) => v.kind === 'modal' && v.user === 'U0OPS' && !v.closed), 5_000, 'the modal');
    expect(view.view.title.text).toBe('Reason');

    const bad = await api('/api/submit', { user: 'U0OPS', view_id: view.id, values: { why: { why_input: { type: 'plain_text_input', value: 'no' } } } });
    expect(bad.json).toEqual({ ok: false, errors: { why: 'Say a bit more (5 characters at least).' } });
    expect((await state()).views.find((v: Json) => v.id === view.id).closed).toBe(false);
    // someone else cannot submit it
    expect((await api('/api/submit', { user: 'U0ALICE', view_id: view.id, values: {} })).status).toBe(404);

    const good = await api('/api/submit', { user: 'U0OPS', view_id: view.id, values: { why: { why_input: { type: 'plain_text_input', value: 'the canary is red' } } } });
    expect(good.json).toEqual({ ok: true });
    expect(submitted).toEqual(['no', 'the canary is red']);
    expect((await state()).views.find((v: Json) => v.id === view.id).closed).toBe(true);
  });

  it('opening the Home tab sends an app_home_opened event_callback the bot accepts', async () => {
    const seen: Json[] = [];
    pg.shipmate.app!.event('app_home_opened', async ({ event }) => {
      seen.push(event as Json);
    });
    const res = await api('/api/home', { user: 'U0BOB' });
    expect(res.json).toEqual({ ok: true });
    await eventually(() => seen.find((e) => e.user === 'U0BOB'), 5_000, 'the app_home_opened event');
    expect(seen.find((e) => e.user === 'U0BOB')).toMatchObject({ type: 'app_home_opened', tab: 'home', channel: expect.stringMatching(/^D/) });
  });

  it('answers unknown commands like Slack does, and keeps plain messages on the page', async () => {
    const res = await api('/api/command', { user: 'U0ALICE', channel: 'C0RELEASES', text: '/nope now' });
    expect(res.json).toEqual({ ok: false, error: 'unknown_command' });
    const s = await state();
    const note = s.messages.find((m: Json) => m.from === 'slackbot' && m.text.includes('/nope'));
    expect(note).toMatchObject({ ephemeral: { user: 'U0ALICE' }, local: true });
    expect(logs.raw()).not.toContain('/nope'); // never sent to the bot: Slack itself answers unknown commands
    const msg = await api('/api/message', { user: 'U0ALICE', channel: 'C0RELEASES', text: 'hello team' });
    expect(msg.json.ok).toBe(true);
    expect((await state()).messages.find((m: Json) => m.ts === msg.json.ts)).toMatchObject({ user: 'U0ALICE', text: 'hello team', local: true });
  });

  it('does not weaken signing: a forged request straight to the bot is refused', async () => {
    const body = slashCommandBody({ command: '/deploy', text: 'staging v9', user_id: 'U0ALICE', channel_id: 'C0RELEASES', response_url: pg.standin.responseUrl() });
    const forged = await sendToBot(pg.botUrl, body, 'a-guessed-secret');
    expect(forged.status).toBe(401);
    const unsigned = await fetch(pg.botUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(unsigned.status).toBe(401);
    expect(logs.lines().some((l) => l.command === '/deploy' && l.text === 'staging v9')).toBe(false);
  });

  it('refuses requests that are not from its own page: other Host names, other origins, non-JSON bodies, unknown users', async () => {
    const { port } = new URL(pg.url);
    const rebinding = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/api/state', headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(rebinding).toBe(403);
    const crossOrigin = await api('/api/command', { user: 'U0ALICE', channel: 'C0RELEASES', text: '/deploys' }, { origin: 'http://evil.example' });
    expect(crossOrigin.status).toBe(403);
    const form = await fetch(new URL('/api/command', pg.url), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"user":"U0ALICE"}' });
    expect(form.status).toBe(415);
    expect((await api('/api/command', { user: 'U0MALLORY', channel: 'C0RELEASES', text: '/deploys' })).status).toBe(400);
  });
});
