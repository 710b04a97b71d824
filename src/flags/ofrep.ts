// The OpenFeature Remote Evaluation Protocol over Shipmate's flags: POST /ofrep/v1/evaluate/flags/{key} (one
// flag, dynamic context) and POST /ofrep/v1/evaluate/flags (every flag, with an ETag; If-None-Match → 304).
// A service authenticates with its environment's API key (X-API-Key or Authorization: Bearer), which picks
// the environment it reads. Answers use OFREP's shapes (../shared/ofrep/openapi.yaml); keys are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../core/config.js';
import type { Deps } from '../deps.js';
import { evaluate, type Evaluation, type Flag } from './evaluation.js';

const MAX_BODY = 64 * 1024;

/** API key → environment, from the variables `flags.apiKeys` names (a variable that is unset gives no key). */
export function ofrepKeys(config: Config, env: NodeJS.ProcessEnv): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [envName, variable] of Object.entries(config.flags.apiKeys)) {
    const value = env[variable];
    if (value && value.length >= 8) keys.set(value, envName);
  }
  return keys;
}

/** One line per environment whose OFREP key is missing or too short (its services cannot read flags). */
export function ofrepKeyWarnings(config: Config, env: NodeJS.ProcessEnv): string[] {
  return Object.entries(config.flags.apiKeys)
    .filter(([, variable]) => (env[variable]?.length ?? 0) < 8)
    .map(([envName, variable]) => `OFREP key for ${envName} is not set (${variable} is ${env[variable] ? 'shorter than 8 characters' : 'unset'}): its services cannot read flags`);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The environment a request's key belongs to, compared in constant time; undefined when it has none or a wrong one. */
function environmentOf(req: IncomingMessage, keys: ReadonlyArray<[Buffer, string]>): string | undefined {
  const header = req.headers['x-api-key'];
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const given = (Array.isArray(header) ? header[0] : header) ?? bearer;
  if (!given) return undefined;
  const d = digest(given.trim());
  let found: string | undefined;
  for (const [k, env] of keys) if (timingSafeEqual(k, d)) found = env;
  return found;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((ok) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        ok(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => ok(undefined));
  });
}

type Parsed = { context: Record<string, unknown> } | { errorCode: 'PARSE_ERROR' | 'INVALID_CONTEXT'; errorDetails: string };

/** The request's evaluation context, or OFREP's reason why there is none. */
function contextOf(text: string | undefined): Parsed {
  if (text === undefined) return { errorCode: 'PARSE_ERROR', errorDetails: `The request body is larger than ${MAX_BODY} bytes` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { errorCode: 'PARSE_ERROR', errorDetails: 'The request body is not valid JSON' };
  }
  const context = (body as { context?: unknown } | null)?.context;
  if (!context || typeof context !== 'object' || Array.isArray(context)) return { errorCode: 'INVALID_CONTEXT', errorDetails: 'The request needs a "context" object' };
  const targetingKey = (context as { targetingKey?: unknown }).targetingKey;
  if (targetingKey !== undefined && typeof targetingKey !== 'string') return { errorCode: 'INVALID_CONTEXT', errorDetails: 'targetingKey must be a string' };
  return { context: context as Record<string, unknown> };
}

/** The status an evaluation is answered with on the single-flag route. */
function statusOf(e: Evaluation): number {
  if (!('errorCode' in e)) return 200;
  return e.errorCode === 'FLAG_NOT_FOUND' ? 404 : e.errorCode === 'GENERAL' ? 500 : 400;
}

export type OfrepDeps = Pick<Deps, 'flags' | 'log'>;

/**
 * One request: authenticate, read the context, evaluate against the current snapshot. Exported for the
 * benchmark, which serves it from a bare node:http server next to a constant baseline.
 */
export function ofrepHandler(deps: OfrepDeps, apiKeys: ReadonlyMap<string, string>) {
  const keys = [...apiKeys].map(([k, env]): [Buffer, string] => [digest(k), env]);
  const log = deps.log.child({ component: 'ofrep' });
  return async (req: IncomingMessage & { params?: Record<string, string | string[]> }, res: ServerResponse, flagKey: string | undefined): Promise<void> => {
    const env = environmentOf(req, keys);
    if (!env) {
      // Who asked is not logged with the key: only that a key was missing or wrong.
      log.info({ reason: req.headers['x-api-key'] || req.headers.authorization ? 'unknown key' : 'no key' }, 'ofrep request refused');
      send(res, 401);
      return;
    }
    const parsed = contextOf(await readBody(req));
    if ('errorCode' in parsed) {
      send(res, 400, flagKey === undefined ? parsed : { key: flagKey, ...parsed });
      return;
    }
    // A context that names another environment than its key's asks for something this key may not read.
    const named = parsed.context.environment;
    if (named !== undefined && named !== env) {
      send(res, 403);
      return;
    }
    let byKey: Map<string, Flag>;
    let version: string;
    try {
      ({ byKey, version } = await deps.flags.snapshot());
    } catch (err) {
      log.warn({ env, err: (err as Error).message }, 'ofrep evaluation failed: flags unavailable');
      send(res, 500, { errorDetails: 'Flags are unavailable right now; use your defaults and retry' });
      return;
    }
    if (flagKey !== undefined) {
      const result = evaluate(byKey.get(flagKey), flagKey, env, parsed.context);
      send(res, statusOf(result), result);
      return;
    }
    const flags = [...byKey.values()].filter((f) => !f.archived).map((f) => evaluate(f, f.key, env, parsed.context));
    const body = JSON.stringify({ flags, metadata: { environment: env, version: Number(version) } });
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    const match = req.headers['if-none-match'];
    if (match && match.split(',').map((m) => m.trim().replace(/^W\//, '')).includes(etag)) {
      send(res, 304, undefined, { etag });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', etag, 'cache-control': 'no-cache' }).end(body);
  };
}

/** The OFREP routes, mounted on the app's HTTP server like /healthz and /metrics (Bolt customRoutes). */
export function ofrepRoutes(deps: OfrepDeps, apiKeys: ReadonlyMap<string, string>) {
  const handle = ofrepHandler(deps, apiKeys);
  const guarded = (flagKey: (req: IncomingMessage & { params?: Record<string, string | string[]> }) => string | undefined) => (req: IncomingMessage & { params?: Record<string, string | string[]> }, res: ServerResponse) => {
    handle(req, res, flagKey(req)).catch((err: Error) => {
      deps.log.error({ err: err.message }, 'ofrep request failed');
      if (!res.headersSent) send(res, 500, { errorDetails: 'Internal error' });
    });
  };
  return [
    { path: '/ofrep/v1/evaluate/flags', method: ['POST'], handler: guarded(() => undefined) },
    { path: '/ofrep/v1/evaluate/flags/:key', method: ['POST'], handler: guarded((req) => String(req.params?.key ?? '')) },
  ];
}
