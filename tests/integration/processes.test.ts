// Process lifecycle of the real src/main.ts: the pid `npm start` prints is the process that handles SIGTERM;
// the embedded redis-server stops however Shipmate ends (SIGTERM, SIGKILL, a failed start); a second instance
// never starts a second server on the same data directory; a busy port leaves nothing behind; shutdown is
// bounded even when Redis is down.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processAlive } from '../../src/core/data-dir-lock.js';
import { freePort, startEmbeddedRedis } from '../../src/core/redis.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { BOT_TOKEN, SIGNING_SECRET, eventually } from '../helpers/harness.js';

const configDir = mkdtempSync(join(tmpdir(), 'shipmate-proc-cfg-'));
writeFileSync(join(configDir, 'shipmate.yml'), PIPELINE_YAML);

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

function watch(child: ChildProcess): Running {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, exited, output: () => out };
}

function baseEnv(port: number, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    SHIPMATE_CONFIG: join(configDir, 'shipmate.yml'),
    SHIPMATE_DATA_DIR: dataDir,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
    PORT: String(port),
    HOST: '127.0.0.1',
    ...extra,
  };
}

function runMain(env: Record<string, string>): Running {
  return watch(spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function healthy(port: number, main: Running): Promise<void> {
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 20_000, `/healthz (output: ${main.output()})`);
}

/** Live redis-server processes working in `dataDir` (Redis chdirs to its --dir; its argv is rewritten, its cwd is not). */
function redisServersIn(dataDir: string): number[] {
  const dir = realpathSync(join(dataDir, 'redis'));
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'redis-server' && readlinkSync(`/proc/${p}/cwd`) === dir && processAlive(Number(p));
      } catch {
        return false;
      }
    })
    .map(Number);
}

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'shipmate-proc-data-'));
}

describe.skipIf(process.platform !== 'linux')('processes', () => {
  it('`npm start` prints the pid that handles SIGTERM: Shipmate and its redis-server stop', async () => {
    const data = dataDir();
    const port = await freePort();
    const npm = watch(spawn('npm', ['start'], { env: baseEnv(port, data), stdio: ['ignore', 'pipe', 'pipe'] }));
    await healthy(port, npm);
    const printed = Number(/"pid":(\d+)[^\n]*"msg":"shipmate starting/.exec(npm.output())?.[1]);
    expect(printed).toBeGreaterThan(0);
    expect(redisServersIn(data)).toHaveLength(1);
    process.kill(printed, 'SIGTERM');
    expect(await npm.exited).toBe(0);
    expect(processAlive(printed)).toBe(false);
    expect(redisServersIn(data)).toEqual([]);
    expect(existsSync(join(data, 'redis', 'shipmate.lock'))).toBe(false);
    expect(readdirSync(join(data, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
  }, 40_000);

  it('a second instance on the same data directory is refused; SIGKILL of the first stops its redis-server within seconds; the next start takes over', async () => {
    const data = dataDir();
    const [port1, port2] = [await freePort(), await freePort()];
    const first = runMain(baseEnv(port1, data));
    await healthy(port1, first);
    const servers = redisServersIn(data);
    expect(servers).toHaveLength(1);

    const second = runMain(baseEnv(port2, data));
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`another Shipmate (pid ${first.child.pid}) is running its redis-server on ${join(data, 'redis')}`);
    expect(redisServersIn(data)).toEqual(servers);
    expect((await fetch(`http://127.0.0.1:${port1}/healthz`)).status).toBe(200);

    first.child.kill('SIGKILL');
    await first.exited;
    await eventually(() => redisServersIn(data).length === 0, 5_000, `redis-server ${servers[0]} to stop`);

    const next = runMain(baseEnv(port2, data));
    await healthy(port2, next);
    expect(redisServersIn(data)).toHaveLength(1);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect(redisServersIn(data)).toEqual([]);
  }, 60_000);

  it('a second instance on a busy port exits with a clear message and leaves no redis-server', async () => {
    const data = dataDir();
    const busy = createServer();
    const port = await new Promise<number>((ok) => busy.listen(0, '127.0.0.1', () => ok((busy.address() as { port: number }).port)));
    try {
      const main = runMain(baseEnv(port, data));
      expect(await main.exited).toBe(1);
      expect(main.output()).toContain(`port ${port} on 127.0.0.1 is already in use (is Shipmate already running?)`);
      expect(existsSync(join(data, 'redis')) ? redisServersIn(data) : []).toEqual([]);
    } finally {
      busy.close();
    }
  }, 30_000);

  it('SIGTERM with Redis down exits within the shutdown bound, saying so', async () => {
    const redisDir = mkdtempSync(join(tmpdir(), 'shipmate-proc-redis-'));
    const redis = await startEmbeddedRedis({ dir: redisDir });
    const port = await freePort();
    const main = runMain(baseEnv(port, dataDir(), { REDIS_URL: redis.url, SHIPMATE_SHUTDOWN_MS: '2000' }));
    await healthy(port, main);
    await redis.stop();
    const signalled = Date.now();
    main.child.kill('SIGTERM');
    const code = await main.exited;
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(code).toBe(1);
    expect(main.output()).toContain('shutdown did not finish in time: exiting anyway');
  }, 30_000);
});
