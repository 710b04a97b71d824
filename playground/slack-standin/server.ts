// Local Slack Web API stand-in: a node:http server the bot's WebClient talks to (slackApiUrl), recording calls and state.
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createResponseUrls, type ResponseUrlContext } from './response-urls.js';
import { loadSnapshot, persistOnChange } from './persist.js';
import { Store, type StandinChannel, type StandinFile, type StandinMessage, type StandinUser, type StandinUserGroup, type StandinView } from './store.js';
import { createMethods } from './web-api.js';

export type { ResponseUrlContext } from './response-urls.js';
export type { ChangeEvent, StandinChannel, StandinMessage, StandinUser, StandinUserGroup, StandinView } from './store.js';

export interface RecordedCall { method: string; args: Record<string, unknown>; at: number; response: Record<string, unknown>; status: number }
/**
 * A fault for the next calls of a method ('*' = any): an HTTP status (500…), a 429 with Retry-After, a Slack error, or
 * `delayMs` alone — a slow answer: the call is processed at once (the message is posted) and answered only after delayMs.
 */
export interface Failure {
  status?: number;
  retryAfter?: number;
  error?: string;
  delayMs?: number;
  /** The call takes effect (the message is posted, the upload completed), then the connection closes unanswered: a lost answer. */
  dropAnswer?: boolean;
}

export interface SlackStandinOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, calls bearing another token get invalid_auth (and calls without one not_authed). */
  token?: string;
  /** The app-level token (xapp-…) accepted by apps.connections.open, for Socket Mode. */
  appToken?: string;
  /** Default 'UBOT00001'. */
  botUserId?: string;
  /** Default 'B0SHIPMATE'. */
  botId?: string;
  /** Default 'T0SHIPMATE'. */
  teamId?: string;
  /** Default 'A0SHIPMATE'. */
  appId?: string;
  users?: StandinUser[];
  channels?: StandinChannel[];
  usergroups?: StandinUserGroup[];
  /** Keep the workspace in this JSON file: loaded at start, written on change (the playground's data dir). */
  persistFile?: string;
}

export interface SlackStandin {
  /** Pass as the WebClient's slackApiUrl: "http://127.0.0.1:40123/api/". */
  url: string;
  origin: string;
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** Non-ephemeral, not-deleted messages (thread replies included), in posting order. */
  messages(channel?: string): StandinMessage[];
  /** Parent then replies, not deleted. */
  thread(channel: string, ts: string): StandinMessage[];
  /** From chat.postEphemeral and ephemeral response_url posts, not deleted. */
  ephemerals(user?: string): StandinMessage[];
  views: Map<string, StandinView>;
  homeOf(user: string): any | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  waitFor<T>(fn: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  failNext(method: string, failure: Failure, times?: number): void;
  /** Ends every fault set with failNext (Slack is back). */
  clearFailures(): void;
  /** A response_url for a slash command / interaction by `user` in `channel`; `ts` is the source message (replace/delete_original). */
  responseUrlFor(ctx: ResponseUrlContext & { id?: string }): string;
  responseUrl(id?: string): string;
  /** 'change' ({type, message|view|user|channel|usergroup}) on every state change, 'call' (RecordedCall) on every call. */
  events: EventEmitter;
  addUser(u: StandinUser): void;
  addChannel(c: StandinChannel): void;
  addUserGroup(g: StandinUserGroup): void;
  state(): ReturnType<Store['snapshot']>;
  /** An uploaded file's metadata and bytes (once uploaded). */
  file(id: string): (StandinFile & { bytes?: Buffer }) | undefined;
  /** The WebSocket URL apps.connections.open hands out (a Socket Mode server the caller runs). */
  setSocketModeUrl(url: string): void;
  close(): Promise<void>;
}

/** Args that WebClient sends JSON-encoded inside form bodies. */
const JSON_ARGS = new Set(['blocks', 'attachments', 'view', 'users', 'metadata', 'files']);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form or JSON body (plus query string) → args, with JSON-encoded form fields decoded. Throws on malformed JSON. */
function parseArgs(contentType: string, raw: string, query: URLSearchParams): Record<string, unknown> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  Object.assign(args, contentType.includes('application/json') ? (raw.trim() ? JSON.parse(raw) : {}) : Object.fromEntries(new URLSearchParams(raw)));
  for (const [key, value] of Object.entries(args)) {
    if (JSON_ARGS.has(key) && typeof value === 'string' && /^\s*[[{]/.test(value)) args[key] = JSON.parse(value);
  }
  return args;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export async function startSlackStandin(opts: SlackStandinOptions = {}): Promise<SlackStandin> {
  const store = new Store({
    botUserId: opts.botUserId ?? 'UBOT00001', botId: opts.botId ?? 'B0SHIPMATE', teamId: opts.teamId ?? 'T0SHIPMATE',
    appId: opts.appId ?? 'A0SHIPMATE', teamDomain: 'shipmate',
  });
  let socketModeUrl: string | undefined;
  const saved = opts.persistFile ? loadSnapshot(opts.persistFile) : undefined;
  if (saved) store.restore(saved);
  const persister = opts.persistFile ? persistOnChange(store, opts.persistFile) : undefined;
  opts.users?.forEach((u) => store.addUser(u));
  opts.channels?.forEach((c) => store.addChannel(c));
  opts.usergroups?.forEach((g) => store.addUserGroup(g));
  let origin = '';
  const methods = createMethods(store, () => origin);
  const responseUrls = createResponseUrls(store);
  const calls: RecordedCall[] = [];
  const failures = new Map<string, Array<Failure & { left: number }>>();
  const { events } = store;

  const takeFailure = (method: string): Failure | undefined => {
    for (const key of [method, '*']) {
      const queue = failures.get(key);
      const f = queue?.[0];
      if (!queue || !f) continue;
      if (--f.left <= 0) queue.shift();
      return f;
    }
    return undefined;
  };
  const failureReply = (f: Failure): { status: number; body: Record<string, unknown>; headers: Record<string, string> } => {
    const status = f.status ?? (f.retryAfter !== undefined ? 429 : 200);
    const retryAfter = f.retryAfter ?? (status === 429 ? 1 : undefined);
    const error = f.error ?? (status === 429 ? 'ratelimited' : status >= 500 ? 'fatal_error' : 'internal_error');
    return { status, body: { ok: false, error }, headers: retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {} };
  };
  /** Waits out a fault's delay; true when the fault is only a delay (the call is then answered normally). */
  const slowOnly = async (f: Failure | undefined): Promise<boolean> => {
    if (f?.delayMs) await new Promise((ok) => setTimeout(ok, f.delayMs));
    return f !== undefined && f.status === undefined && f.retryAfter === undefined && f.error === undefined;
  };
  const record = (method: string, args: Record<string, unknown>, status: number, response: Record<string, unknown>) => {
    const call: RecordedCall = { method, args, at: Date.now(), response, status };
    calls.push(call);
    events.emit('call', call);
  };

  const handleFile = async (req: IncomingMessage, res: ServerResponse, what: 'upload' | 'files', id: string): Promise<void> => {
    const file = store.files.get(id);
    if (what === 'files') {
      if (!file?.bytes || !file.complete) return send(res, 404, { ok: false, error: 'file_not_found' });
      res.writeHead(200, { 'content-type': file.mimetype, 'access-control-allow-origin': '*' });
      return void res.end(file.bytes);
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const f = takeFailure('upload');
    if (f && !(await slowOnly(f))) {
      const out = failureReply(f);
      record('upload', { file_id: id }, out.status, out.body);
      res.writeHead(out.status, { 'content-type': 'text/plain' });
      return void res.end('upload failed');
    }
    if (!file) return void res.writeHead(404).end('no such upload');
    const body = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    // WebClient posts multipart form data with the bytes in one field; a raw body is taken as the bytes.
    const form = type.includes('multipart/') ? await new Request('http://standin/', { method: 'POST', headers: { 'content-type': type }, body }).formData() : undefined;
    const part = form ? [...form.values()].find((v): v is File => typeof v !== 'string') : undefined;
    file.bytes = part ? Buffer.from(await part.arrayBuffer()) : body;
    file.size = file.bytes.length;
    record('upload', { file_id: id, bytes: file.size }, 200, { ok: true });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${file.size}`);
  };

  const sse = new Set<ServerResponse>();
  events.on('change', (e) => { for (const res of sse) res.write(`data: ${JSON.stringify(e)}\n\n`); });

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const cors = { 'access-control-allow-origin': '*' };
      if (req.method === 'GET' && url.pathname === '/_standin/state') return send(res, 200, store.snapshot(), cors);
      if (req.method === 'GET' && url.pathname === '/_standin/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...cors });
        res.write(': connected\n\n');
        sse.add(res);
        return void req.on('close', () => sse.delete(res));
      }
      // File bytes: uploaded to the URL files.getUploadURLExternal handed out (multipart, as WebClient sends them), read back by id.
      const fileId = /^\/_standin\/(upload|files)\/(F\w+)$/.exec(url.pathname);
      if (fileId) return void handleFile(req, res, fileId[1] as 'upload' | 'files', fileId[2] as string);
      const raw = await readBody(req);
      const contentType = req.headers['content-type'] ?? '';

      const responseId = /^\/response\/([^/]+)$/.exec(url.pathname)?.[1];
      if (responseId && req.method === 'POST') {
        let body: Record<string, unknown>;
        try {
          const parsed = parseArgs(contentType.includes('form') ? contentType : 'application/json', raw, new URLSearchParams());
          body = typeof parsed.payload === 'string' ? JSON.parse(parsed.payload) : parsed;
        } catch {
          return send(res, 400, { ok: false, error: 'invalid_payload' });
        }
        const f = takeFailure('response_url');
        const out = f && !(await slowOnly(f)) ? failureReply(f) : { ...responseUrls.handle(responseId, body), headers: {} };
        record('response_url', { id: responseId, ...body }, out.status, out.body);
        return send(res, out.status, out.body, out.headers);
      }

      const method = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1];
      if (!method) return send(res, 404, { ok: false, error: 'not_found' });
      let args: Record<string, unknown>;
      try {
        args = parseArgs(contentType, raw, url.searchParams);
      } catch {
        const body = { ok: false, error: contentType.includes('json') ? 'invalid_json' : 'invalid_form_data' };
        record(method, { raw }, 200, body);
        return send(res, 200, body);
      }
      const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
      delete args.token;

      const f = takeFailure(method);
      // delayMs alone: a slow answer — the call takes effect at once and is answered late. With a status: a late failure.
      const takesEffect = f !== undefined && (f.delayMs !== undefined || f.dropAnswer === true) && f.status === undefined && f.retryAfter === undefined && f.error === undefined;
      const slowBy = takesEffect ? (f.delayMs ?? 0) : undefined;
      if (f && slowBy === undefined) {
        if (f.delayMs) await new Promise((ok) => setTimeout(ok, f.delayMs));
        const out = failureReply(f);
        record(method, args, out.status, out.body);
        return send(res, out.status, out.body, out.headers);
      }
      let body: Record<string, unknown>;
      if (method === 'apps.connections.open') {
        // Socket Mode: only the app-level token may open a connection, as on Slack.
        body = !token ? { ok: false, error: 'not_authed' } : token !== opts.appToken ? { ok: false, error: 'invalid_auth' } : socketModeUrl ? { ok: true, url: socketModeUrl } : { ok: false, error: 'internal_error' };
      } else if (opts.token !== undefined && !token) body = { ok: false, error: 'not_authed' };
      else if (opts.token !== undefined && token !== opts.token) body = { ok: false, error: 'invalid_auth' };
      else {
        const handler = methods[method];
        try {
          body = handler ? handler(args) : { ok: false, error: 'unknown_method', req_method: method };
        } catch (err) {
          body = { ok: false, error: 'fatal_error', detail: String(err) };
        }
      }
      record(method, args, 200, body);
      if (slowBy) await new Promise((ok) => setTimeout(ok, slowBy));
      if (f?.dropAnswer) return void res.destroy();
      if (!res.destroyed) send(res, 200, body);
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'fatal_error', detail: String(err) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  origin = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  const live = (m: StandinMessage) => !m.deleted;
  const standin: SlackStandin = {
    url: `${origin}/api/`,
    origin,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages: (channel) => store.messages.filter((m) => live(m) && !m.ephemeral && (channel === undefined || m.channel === channel)),
    thread: (channel, ts) => {
      const parent = store.find(channel, ts);
      return parent ? [parent, ...store.messages.filter((m) => live(m) && !m.ephemeral && m.channel === channel && m.thread_ts === ts)] : [];
    },
    ephemerals: (user) => store.messages.filter((m) => live(m) && m.ephemeral && (user === undefined || m.ephemeral.user === user)),
    views: store.views,
    homeOf: (user) => [...store.views.values()].find((v) => v.kind === 'home' && v.user === user)?.view,
    waitFor<T>(fn: () => T | undefined | false | null, timeoutMs = 5000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let lastError: unknown;
        let settled = false;
        const check = () => {
          if (settled) return;
          try {
            const v = fn();
            if (v) {
              finish();
              resolve(v);
            }
          } catch (err) {
            lastError = err;
          }
        };
        const finish = () => {
          settled = true;
          clearInterval(poll);
          clearTimeout(timer);
          events.off('change', check).off('call', check);
        };
        const poll = setInterval(check, 10);
        const timer = setTimeout(() => {
          finish();
          const recent = calls.slice(-8).map((c) => `${c.method}→${c.response.ok ? 'ok' : String(c.response.error)}`).join(', ');
          const msgs = store.messages.slice(-5).map((m) => `${m.channel}@${m.ts}${m.ephemeral ? `(eph ${m.ephemeral.user})` : ''}: ${(m.text ?? '').slice(0, 60)}`);
          reject(new Error([
            `waitFor timed out after ${timeoutMs}ms waiting for: ${fn.toString().slice(0, 300)}`,
            ...(lastError !== undefined ? [`last error thrown by the predicate: ${String(lastError)}`] : []),
            `recent calls (${calls.length} total): ${recent || 'none'}`,
            `last messages (${store.messages.length} total):${msgs.length ? `\n  ${msgs.join('\n  ')}` : ' none'}`,
          ].join('\n')));
        }, timeoutMs);
        events.on('change', check).on('call', check);
        check();
      });
    },
    failNext(method, failure, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ ...failure, left: times });
      failures.set(method, queue);
    },
    clearFailures: () => failures.clear(),
    responseUrlFor: ({ id, ...ctx }) => `${origin}/response/${responseUrls.register(ctx, id)}`,
    responseUrl: (id) => `${origin}/response/${id ?? responseUrls.register({})}`,
    events,
    addUser: (u) => store.addUser(u),
    addChannel: (c) => store.addChannel(c),
    addUserGroup: (g) => store.addUserGroup(g),
    state: () => store.snapshot(),
    file: (id) => store.files.get(id),
    setSocketModeUrl: (url: string) => {
      socketModeUrl = url;
    },
    close: async () => {
      await persister?.flush();
      await new Promise<void>((resolve, reject) => {
        for (const res of sse) res.end();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return standin;
}
