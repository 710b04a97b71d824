// Redis: the server from REDIS_URL, or an embedded redis-server started here with its data on disk (AOF).
// The embedded server never outlives Shipmate and is the only one on its data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
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

/** A connection suitable for BullMQ (which needs maxRetriesPerRequest: null on blocking connections). */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
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
  return new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: commandTimeoutMs,
    // Keep reconnecting quickly, without growing back-off: requests fail only while Redis is really away.
    retryStrategy: () => 250,
  });
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
