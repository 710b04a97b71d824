// Spawns Shipmate's real entry point (src/main.ts) as a separate worker process, for crash and scale-out tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOT_TOKEN, SIGNING_SECRET } from './harness.js';

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'shipmate-config-')), 'shipmate.yml');
  writeFileSync(file, yaml);
  return file;
}

export function spawnWorker(opts: { configFile: string; redisUrl: string; prefix: string; slackApiUrl: string; lockMs?: number; env?: Record<string, string> }): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role', 'worker'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH,
      SHIPMATE_CONFIG: opts.configFile,
      REDIS_URL: opts.redisUrl,
      SHIPMATE_PREFIX: opts.prefix,
      SLACK_API_URL: opts.slackApiUrl,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SHIPMATE_WORKER_LOCK_MS: String(opts.lockMs ?? 2000),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, output: () => out, exited };
}
