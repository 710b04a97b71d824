// Redis: the server from REDIS_URL, or an embedded redis-server started here with its data on disk (AOF).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';

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
 * Starts `redis-server` on 127.0.0.1 with append-only persistence in `dir`.
 * Resolves once it answers PING; the server is stopped with `stop()` (SHUTDOWN, so the AOF is flushed).
 */
export async function startEmbeddedRedis(opts: { dir: string; port?: number; binary?: string }): Promise<EmbeddedRedis> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const binary = opts.binary ?? 'redis-server';
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<never>((_, fail) => {
    child.once('error', (err) => fail(new Error(`cannot start ${binary}: ${err.message}. Install it (apt-get install redis-server) or set REDIS_URL.`)));
    child.once('exit', (code) => fail(new Error(`${binary} exited with code ${code}: ${output.trim()}`)));
  });
  exited.catch(() => undefined);
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([exited, waitForPing(url, 10_000)]);
  return {
    url,
    port,
    dir,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await client.connect();
        await client.call('SHUTDOWN').catch(() => undefined);
      } catch {
        child.kill('SIGTERM');
      } finally {
        client.disconnect();
      }
      await Promise.race([gone, new Promise((ok) => setTimeout(ok, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
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
    // Keep reconnecting quickly: requests fail only while Redis is really away.
    retryStrategy: (times) => Math.min(times * 100, 1_000),
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
