// The playground's web server: serves the page, its state and live updates, and turns the page's clicks into Slack requests.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../src/core/logger.js';
import type { SlackStandin, StandinMessage, StandinView } from './slack-standin/server.js';
import type { DemoUser } from './demo-workspace.js';
import type { ActionInput, BotReply, SlackBridge, StateValues } from './slack-bridge.js';

type Json = Record<string, unknown>;

export interface PlaygroundServerOptions {
  standin: SlackStandin;
  bridge: SlackBridge;
  users: DemoUser[];
  /** Where the bot's own HTTP server listens; /healthz and /metrics are passed through to it. */
  botOrigin: string;
  log: Logger;
  port: number;
  host: string;
  /** The flags and their state per environment, for the page's Flags list (src/flags). */
  flags?: () => Promise<unknown>;
}

export interface PlaygroundServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** What the page shows that is not the bot's: people's plain messages and Slackbot's notes ("not a valid command"). */
interface LocalMessage extends StandinMessage {
  local: true;
  from?: 'slackbot';
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const MAX_BODY = 1_000_000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Json> {
  if (!(req.headers['content-type'] ?? '').includes('application/json')) throw new HttpError(415, 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Json;
  } catch {
    throw new HttpError(400, 'invalid JSON');
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

export async function startPlaygroundServer(opts: PlaygroundServerOptions): Promise<PlaygroundServer> {
  const { standin, bridge, log } = opts;
  const users = new Map(opts.users.map((u) => [u.id, u]));
  const local: LocalMessage[] = [];
  const closedViews = new Set<string>();
  /** ts of the bot's reply to a command → the command, so the page can say what the reply answers. */
  const acks = new Map<string, string>();
  /** ts of a command's reply → when the command was sent: Slack shows the reply before what the bot posts after acking. */
  const ackOrder = new Map<string, string>();
  const changes = new EventEmitter();
  const onStandinChange = (e: { type: string }) => changes.emit('change', { type: e.type });
  standin.events.on('change', onStandinChange);
  let lastMicros = 0;
  const nextTs = () => {
    lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };

  const knownUser = (v: unknown): string => {
    const id = str(v);
    if (!id || !users.has(id)) throw new HttpError(400, `unknown user ${String(v)}`);
    return id;
  };
  const knownChannel = (v: unknown): string => {
    const id = str(v);
    if (!id || !standin.state().channels.some((c) => c.id === id)) throw new HttpError(400, `unknown channel ${String(v)}`);
    return id;
  };
  const viewFor = (user: string, v: unknown): StandinView => {
    const view = standin.views.get(str(v) ?? '');
    if (!view || view.user !== user || (view.kind === 'modal' && closedViews.has(view.id))) throw new HttpError(404, 'no such view for this user');
    return view;
  };
  const addLocal = (m: Omit<LocalMessage, 'ts' | 'replies' | 'local'>) => {
    const message: LocalMessage = { ...m, ts: nextTs(), replies: [], local: true };
    local.push(message);
    if (m.thread_ts && !m.ephemeral) local.find((p) => p.ts === m.thread_ts)?.replies.push(message.ts);
    changes.emit('change', { type: 'local_message' });
    return message;
  };
  const slackbotSays = (user: string, channel: string, text: string) =>
    addLocal({ channel, user: 'USLACKBOT', text, ephemeral: { user }, from: 'slackbot' });
  const closeView = (id: string) => {
    closedViews.add(id);
    changes.emit('change', { type: 'view_closed' });
  };
  const failed = (reply: BotReply) => ({ ok: false, error: reply.error ?? `http_${reply.status}` });

  function state() {
    const snapshot = standin.state();
    return {
      team: { id: snapshot.teamId, name: 'Shipmate playground' },
      botUserId: snapshot.botUserId,
      commands: bridge.commands,
      users: [
        ...opts.users.map((u) => ({ ...u, demo: true })),
        ...snapshot.users.filter((u) => !users.has(u.id)).map((u) => ({ ...u, roles: [] as string[] })),
        { id: 'USLACKBOT', name: 'slackbot', real_name: 'Slackbot', is_bot: true, roles: [] },
      ],
      channels: snapshot.channels,
      messages: [...snapshot.messages.filter((m) => !m.deleted), ...local].sort((a, b) => Number(ackOrder.get(a.ts) ?? a.ts) - Number(ackOrder.get(b.ts) ?? b.ts)),
      views: snapshot.views.map((v) => ({ ...v, closed: closedViews.has(v.id) })),
      acks: Object.fromEntries(acks),
    };
  }

  async function command(body: Json) {
    const user = knownUser(body.user);
    const channel = knownChannel(body.channel);
    const text = (str(body.text) ?? '').trim();
    const match = /^(\/[A-Za-z0-9_-]+)(?:\s+([\s\S]*))?$/.exec(text);
    if (!match) throw new HttpError(400, 'a slash command starts with /');
    const [, name = '', rest = ''] = match;
    const cmd = name.toLowerCase();
    if (!bridge.commands.includes(cmd)) {
      slackbotSays(user, channel, `\`${name}\` is not a valid command. Shipmate's commands are ${bridge.commands.map((c) => `\`${c}\``).join(', ')}; \`/shipmate\` says what each does, and \`help\` after any of them (\`/deploy help\`) gives examples.`);
      return { ok: false, error: 'unknown_command' };
    }
    const sentTs = nextTs();
    const reply = await bridge.command({ user, channel, command: cmd, text: rest.trim() });
    if (reply.status !== 200) {
      slackbotSays(user, channel, `\`${cmd}\` failed with the error "${reply.error ?? 'dispatch_failed'}"`);
      return failed(reply);
    }
    if (reply.json) {
      const { ts, error } = await bridge.showAck({ user, channel, ack: reply.json });
      if (error) slackbotSays(user, channel, `Shipmate answered \`${cmd}\`, but Slack would not show the reply: ${error}.`);
      if (ts) {
        acks.set(ts, `${cmd}${rest.trim() ? ` ${rest.trim()}` : ''}`);
        ackOrder.set(ts, sentTs);
        changes.emit('change', { type: 'ack' });
      }
    }
    return { ok: true, ack: reply.json ?? null };
  }

  function actionInput(body: Json): ActionInput {
    const action_id = str(body.action_id);
    if (!action_id) throw new HttpError(400, 'action_id is required');
    return {
      action_id,
      block_id: str(body.block_id),
      type: str(body.type),
      value: str(body.value),
      text: obj(body.text),
      selected_options: Array.isArray(body.selected_options) ? body.selected_options : undefined,
      selected_option: obj(body.selected_option),
    };
  }

  async function action(body: Json) {
    const user = knownUser(body.user);
    const input = actionInput(body);
    let reply: BotReply;
    if (body.view_id !== undefined) {
      reply = await bridge.viewAction({ user, view: viewFor(user, body.view_id), action: input, values: obj(body.values) as StateValues | undefined });
    } else {
      const channel = knownChannel(body.channel);
      const ts = str(body.message_ts);
      const message = [...standin.messages(channel), ...standin.ephemerals(user)].find((m) => m.channel === channel && m.ts === ts);
      if (!message) throw new HttpError(404, 'no such message');
      reply = await bridge.messageAction({ user, message, action: input });
    }
    return reply.status === 200 ? { ok: true } : failed(reply);
  }

  async function submit(body: Json) {
    const user = knownUser(body.user);
    const view = viewFor(user, body.view_id);
    const reply = await bridge.submit({ user, view, values: (obj(body.values) ?? {}) as StateValues });
    if (reply.status !== 200) return failed(reply);
    const json = reply.json ?? {};
    switch (json.response_action) {
      case 'errors':
        return { ok: false, errors: obj(json.errors) ?? {} };
      case 'update':
        // Slack applies the update itself: the same view, new content.
        view.view = json.view;
        view.hash = nextTs();
        standin.events.emit('change', { type: 'view_updated', view });
        return { ok: true };
      case 'push': {
        const pushed: StandinView = { id: `VP${nextTs().replace('.', '')}`, user, view: json.view, kind: 'modal', hash: nextTs() };
        standin.views.set(pushed.id, pushed);
        standin.events.emit('change', { type: 'view_pushed', view: pushed });
        return { ok: true };
      }
      case 'clear':
        for (const v of standin.views.values()) if (v.kind === 'modal' && v.user === user) closedViews.add(v.id);
        closeView(view.id);
        return { ok: true };
      default:
        closeView(view.id);
        return { ok: true };
    }
  }

  async function close(body: Json) {
    const user = knownUser(body.user);
    const view = viewFor(user, body.view_id);
    closeView(view.id);
    const reply = await bridge.closed({ user, view, values: obj(body.values) as StateValues | undefined });
    return !reply || reply.status === 200 ? { ok: true } : failed(reply);
  }

  async function home(body: Json) {
    const user = knownUser(body.user);
    const reply = await bridge.homeOpened(user);
    return reply.status === 200 ? { ok: true } : failed(reply);
  }

  function message(body: Json) {
    const user = knownUser(body.user);
    const channel = knownChannel(body.channel);
    const text = (str(body.text) ?? '').trim();
    if (!text) throw new HttpError(400, 'empty message');
    // Shipmate does not listen to messages, so these stay on the page; the bot never sees them.
    const m = addLocal({ channel, user, text: text.slice(0, 4000) });
    return { ok: true, ts: m.ts };
  }

  const routes: Record<string, (body: Json) => Promise<unknown> | unknown> = {
    '/api/command': command, '/api/action': action, '/api/submit': submit, '/api/close': close, '/api/home': home, '/api/message': message,
  };
  const loopbackOnly = LOOPBACK.has(opts.host);
  const sse = new Set<ServerResponse>();
  const onChange = (e: unknown) => { for (const res of sse) res.write(`data: ${JSON.stringify(e)}\n\n`); };
  changes.on('change', onChange);
  const heartbeat = setInterval(() => { for (const res of sse) res.write(': ping\n\n'); }, 15_000);
  heartbeat.unref();

  async function passThrough(path: string, res: ServerResponse) {
    try {
      const r = await fetch(`${opts.botOrigin}${path}`);
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await r.arrayBuffer()));
    } catch (err) {
      sendJson(res, 503, { ok: false, error: (err as Error).message });
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://playground');
      // Bound to loopback: refuse other Host names, so a web page elsewhere cannot reach it through DNS rebinding.
      const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (loopbackOnly && !LOOPBACK.has(hostname)) return sendJson(res, 403, { ok: false, error: 'the playground answers on localhost only' });
      if (req.method === 'GET') {
        const file = STATIC[url.pathname];
        if (file) {
          res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
          return void res.end(await readFile(`${PUBLIC_DIR}${file.file}`));
        }
        if (url.pathname === '/healthz' || url.pathname === '/metrics') return passThrough(url.pathname, res);
        if (url.pathname === '/api/state') return sendJson(res, 200, state());
        // An uploaded image a view shows by slack_file id (App Home's DORA chart), as Slack's client would fetch it.
        const fileId = /^\/files\/(F\w+)$/.exec(url.pathname)?.[1];
        const upload = fileId ? standin.file(fileId) : undefined;
        if (upload?.complete && upload.bytes && upload.mimetype.startsWith('image/')) {
          res.writeHead(200, { 'content-type': upload.mimetype, 'cache-control': 'private, max-age=3600' });
          return void res.end(upload.bytes);
        }
        if (url.pathname === '/api/flags') return sendJson(res, 200, { ok: true, flags: (await opts.flags?.()) ?? [] });
        if (url.pathname === '/api/events') {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
          res.write(': connected\n\n');
          sse.add(res);
          return void req.on('close', () => sse.delete(res));
        }
        return sendJson(res, 404, { ok: false, error: 'not_found' });
      }
      const route = routes[url.pathname];
      if (req.method !== 'POST' || !route) return sendJson(res, 404, { ok: false, error: 'not_found' });
      const origin = req.headers.origin;
      if (origin && origin !== `http://${req.headers.host ?? ''}`) return sendJson(res, 403, { ok: false, error: 'cross-origin requests are refused' });
      const body = await readJson(req);
      sendJson(res, 200, await route(body));
    })().catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.error({ err: (err as Error).message, url: req.url }, 'playground request failed');
      if (!res.headersSent) sendJson(res, status, { ok: false, error: (err as Error).message });
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    host: address,
    port,
    close: () => new Promise<void>((resolve) => {
      clearInterval(heartbeat);
      standin.events.off('change', onStandinChange);
      changes.off('change', onChange);
      for (const res of sse) res.end();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
