// Redis: the server from REDIS_URL, or an embedded redis-server started here with its data on disk (AOF).
// The embedded server never outlives Shipmate and is the only one on its data directory.
// REDIS_URL may also name a Redis Cluster (`redis-cluster://h1:p1,h2:p2`) or a Sentinel set
// (`redis-sentinel://h1:p1,h2:p2/<master name>`); see redisTarget().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { lockDataDir } from './data-dir-lock.js';

// On Linux, util-linux's setpriv asks the kernel to SIGTERM the server when Shipmate dies, however it dies
// (SIGKILL included); Redis takes SIGTERM as a clean SHUTDOWN, flushing the AOF.
const SETPRIV = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;
const STOP_WAIT_MS = 5_000;

export interface EmbeddedRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/**
 * Starts `redis-server` on 127.0.0.1 with append-only persistence in `dir`, after taking the directory's lock
 * (refused while another live Shipmate holds it). Resolves once it answers PING. `stop()` stops it (SIGTERM:
 * Redis shuts down cleanly) and releases the lock; if this process exits first, the server is stopped too.
 */
export async function startEmbeddedRedis(opts: { dir: string; port?: number; binary?: string }): Promise<EmbeddedRedis> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const lock = await lockDataDir(dir);
  const port = opts.port ?? (await freePort());
  const binary = opts.binary ?? 'redis-server';
  const argv = [binary, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'];
  const [file, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'TERM', '--', ...argv] : argv;
  // Its own process group: Ctrl-C in a terminal reaches Shipmate only, which stops the server after its workers.
  const child = spawn(file ?? binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  lock.setServerPid(child.pid);
  const running = () => child.exitCode === null && child.signalCode === null;
  // process.exit() and a shutdown that ran out of time end here; there is no waiting in an exit handler.
  const stopOnExit = () => {
    if (running()) child.kill('SIGTERM');
  };
  process.on('exit', stopOnExit);
  child.once('exit', () => process.off('exit', stopOnExit));
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const notInstalled = `cannot start ${binary}. Install it (apt-get install redis-server) or set REDIS_URL.`;
  const exited = new Promise<never>((_, fail) => {
    child.once('error', (err) => fail(new Error(`${notInstalled} (${err.message})`)));
    child.once('exit', (code) => fail(new Error(code === 127 ? notInstalled : `${binary} exited with code ${code}: ${output.trim()}`)));
  });
  exited.catch(() => undefined);
  const url = `redis://127.0.0.1:${port}`;

  async function stop(): Promise<void> {
    if (running()) {
      const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((ok) => setTimeout(ok, STOP_WAIT_MS).unref())]);
      if (running()) {
        child.kill('SIGKILL');
        await gone;
      }
    }
    lock.release();
  }

  try {
    await Promise.race([exited, waitForPing(url, 10_000)]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, dir, process: child, stop };
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not answer within ${timeoutMs} ms`);
      await new Promise((ok) => setTimeout(ok, 50));
    } finally {
      client.disconnect();
    }
  }
}

/**
 * What REDIS_URL points at. `redis://` and `rediss://` are one server (ioredis' own URL format);
 * `redis-cluster://[user:password@]host:port,host:port,...` is a Redis Cluster (any reachable nodes: the rest
 * are discovered); `redis-sentinel://[user:password@]host:port,host:port,.../<master name>` is a Sentinel set
 * (the password is the master's; the sentinels themselves are asked without one).
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster' | 'sentinel'; nodes: Array<{ host: string; port: number }>; name?: string; username?: string; password?: string };

export function redisTarget(url: string): RedisTarget {
  const m = /^redis-(cluster|sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)(?:\/([^?]*))?/.exec(url);
  if (!m) return { kind: 'single', url };
  const kind = m[1] as 'cluster' | 'sentinel';
  const nodes = (m[4] ?? '').split(',').filter(Boolean).map((hp) => {
    const at = hp.lastIndexOf(':');
    const port = Number(at > 0 ? hp.slice(at + 1) : kind === 'sentinel' ? 26379 : 6379);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`REDIS_URL: bad port in "${hp}"`);
    return { host: at > 0 ? hp.slice(0, at) : hp, port };
  });
  if (nodes.length === 0) throw new Error(`REDIS_URL: ${kind} URL names no host:port`);
  const name = m[5] ? decodeURIComponent(m[5]) : undefined;
  if (kind === 'sentinel' && !name) throw new Error('REDIS_URL: a sentinel URL ends with /<master name>');
  const username = m[2] ? decodeURIComponent(m[2]) : undefined;
  const password = m[3] ? decodeURIComponent(m[3]) : undefined;
  return { kind, nodes, ...(name ? { name } : {}), ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

export function isClusterUrl(url: string): boolean {
  return redisTarget(url).kind === 'cluster';
}

/**
 * The key prefix to use on this Redis. On a cluster every key of Shipmate's (BullMQ's included) must hash to one
 * slot — BullMQ's Lua scripts and Shipmate's own touch several keys at once — so the prefix becomes a hash tag
 * (`shipmate` → `{shipmate}`). Elsewhere it is left as it is, so existing data keeps its keys.
 */
export function keyPrefixFor(url: string, prefix: string): string {
  if (!isClusterUrl(url) || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}

/**
 * A client for the target, typed as `Redis`: a `Cluster` answers the same commands (Shipmate uses no command that
 * differs), and BullMQ takes either. `single` options apply to every node's connection.
 */
function connect(url: string, options: RedisOptions): Redis {
  const target = redisTarget(url);
  if (target.kind === 'single') return new Redis(url, options);
  const auth = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
  if (target.kind === 'sentinel') return new Redis({ ...options, ...auth, sentinels: target.nodes, name: target.name });
  const { enableOfflineQueue, retryStrategy, ...nodeOptions } = options;
  const cluster = new Cluster(target.nodes, {
    redisOptions: { ...nodeOptions, ...auth },
    enableReadyCheck: options.enableReadyCheck ?? true,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
  });
  return cluster as unknown as Redis;
}

/** A connection suitable for BullMQ (which needs maxRetriesPerRequest: null on blocking connections). */
export function createRedis(url: string): Redis {
  return connect(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * A connection for work done inside a Slack request (before the ack). It never queues a command while
 * disconnected and never resends one after a reconnect (ioredis does both by default), so a request made
 * while Redis is away fails at once, visibly, instead of taking effect minutes later; and each command
 * gives up after `commandTimeoutMs`, so the ack is never late. Workers keep the patient `createRedis`.
 */
/** How long a command made inside a Slack request may take before the request gives up on it. */
export const REQUEST_COMMAND_TIMEOUT_MS = 500;

export function createFailFastRedis(url: string, commandTimeoutMs = REQUEST_COMMAND_TIMEOUT_MS): Redis {
  return connect(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: commandTimeoutMs,
    // Keep reconnecting quickly, without growing back-off: requests fail only while Redis is really away.
    retryStrategy: () => 250,
  });
}

/** A round trip slower than this (a busy event loop, Redis stalled) measures the offset too loosely to keep. */
const CLOCK_TRUSTED_RTT_MS = 50;

/**
 * Redis' clock minus ours (ms), so a deadline handed to a script is in Redis' own time. TIME ran somewhere
 * between sending and receiving, so the midpoint is used; a measurement with a slow round trip (start-up, GC,
 * a loaded machine) serves only the call that made it and is taken again next time — one slow answer must
 * not shift every later deadline (that refused every command as "too late").
 */
export class RedisClock {
  private offset?: Promise<number>;

  constructor(private readonly redis: Pick<Redis, 'time'>) {}

  offsetMs(): Promise<number> {
    if (this.offset) return this.offset;
    const sent = Date.now();
    const measuring = this.redis.time().then(([s, us]) => {
      const got = Date.now();
      if (got - sent > CLOCK_TRUSTED_RTT_MS && this.offset === measuring) this.offset = undefined;
      return Number(s) * 1000 + Math.floor(Number(us) / 1000) - Math.round((sent + got) / 2);
    });
    measuring.catch(() => {
      if (this.offset === measuring) this.offset = undefined;
    });
    this.offset = measuring;
    return measuring;
  }
}

/** Redis answered, but too late for the write to count: it was not made (see DeployStore.createOnce). */
export class RedisTooSlowError extends Error {
  constructor(what: string) {
    super(`redis ran ${what} too late; it was not applied`);
    this.name = 'RedisTooSlowError';
  }
}

/** Whether `err` means Redis could not be reached (or did not answer in time) — not a bug in a command. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || err instanceof RedisTooSlowError
    || /enableOfflineQueue|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/.test(err.message);
}
