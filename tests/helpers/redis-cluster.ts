// A local Redis Cluster for tests and benchmarks: N masters from the machine's redis-server in cluster mode on
// 127.0.0.1, joined with `redis-cli --cluster create` (no replicas). Resolves once every node says cluster_state:ok.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../src/core/redis.js';

const run = promisify(execFile);

export interface LocalCluster {
  /** The REDIS_URL that points Shipmate at it: redis-cluster://127.0.0.1:p1,127.0.0.1:p2,… */
  url: string;
  ports: number[];
  /** A plain client per master (INFO, commandstats), closed by stop(). */
  nodes: Redis[];
  stop(): Promise<void>;
}

/** `aof`: persist like Shipmate's managed Redis (append-only, fsync on every write), for fair benchmark comparisons. */
export async function startRedisCluster(masters = 3, opts: { aof?: boolean } = {}): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'shipmate-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) {
    let port = await freePort();
    // The cluster bus listens on port + 10000: keep both in range and distinct.
    while (port > 55_000 || ports.includes(port)) port = await freePort();
    ports.push(port);
  }
  const children: ChildProcess[] = ports.map((port) =>
    spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '',
      ...(opts.aof ? ['--appendonly', 'yes', '--appendfsync', 'always', '--appendfilename', `aof-${port}.aof`, '--appenddirname', `aof-${port}`] : ['--appendonly', 'no']),
      '--daemonize', 'no', '--loglevel', 'warning',
    ], { stdio: 'ignore' }),
  );
  const nodes = ports.map((port) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => 50 }).on('error', () => undefined));
  const stop = async () => {
    for (const n of nodes) n.disconnect();
    await Promise.all(children.map((c) => new Promise<void>((ok) => {
      if (c.exitCode !== null || c.signalCode !== null) return ok();
      c.once('exit', () => ok());
      c.kill('SIGKILL');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) {
      await waitFor(async () => (await n.ping()) === 'PONG', 10_000, 'redis-server to start');
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    for (const n of nodes) await waitFor(async () => /cluster_state:ok/.test(String(await n.call('CLUSTER', 'INFO'))), 20_000, 'cluster_state:ok');
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, nodes, stop };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`local cluster: timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
