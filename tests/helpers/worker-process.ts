// Spawns Shipmate's real entry point (src/main.ts) as a separate worker process, for crash and scale-out tests,
// and a step script that records which process did its work when, so overlapping runs show.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * A step script whose work runs in a grandchild (a background child of the step's shell), as real
 * deploy scripts often do: every 100 ms it appends "tick <pid> <ms>" to the file given as $1, and
 * "end <pid> <ms>" after $2 ticks ($3 ticks instead when the file exists already: a resumed run).
 * The pid is the grandchild's, so every run's work is told apart.
 */
export function writeTicker(dir: string): string {
  const file = join(dir, 'ticker.sh');
  writeFileSync(
    file,
    `#!/bin/sh
n=$2; [ -s "$1" ] && [ -n "$3" ] && n=$3
sh -c 'i=0; while [ "$i" -lt "$2" ]; do echo "tick $$ $(date +%s%3N)" >> "$1"; sleep 0.1; i=$((i+1)); done; echo "end $$ $(date +%s%3N)" >> "$1"' ticker "$1" "$n" &
wait
`,
    { mode: 0o755 },
  );
  return file;
}

export interface Tick {
  kind: 'tick' | 'end';
  pid: number;
  at: number;
}

export function readTicks(file: string): Tick[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, pid, at] = line.split(' ');
      return { kind: kind as Tick['kind'], pid: Number(pid), at: Number(at) };
    });
}

/** Each process's working span (first to last line), in the order they started. */
export function spans(ticks: readonly Tick[]): Array<{ pid: number; from: number; to: number; ended: boolean }> {
  const byPid = new Map<number, { pid: number; from: number; to: number; ended: boolean }>();
  for (const t of ticks) {
    const s = byPid.get(t.pid) ?? { pid: t.pid, from: t.at, to: t.at, ended: false };
    s.from = Math.min(s.from, t.at);
    s.to = Math.max(s.to, t.at);
    s.ended ||= t.kind === 'end';
    byPid.set(t.pid, s);
  }
  return [...byPid.values()].sort((a, b) => a.from - b.from);
}

/** Pairs of processes whose working spans overlap: the same step doing work in two places at once. */
export function overlapping(ticks: readonly Tick[]): Array<[number, number]> {
  const all = spans(ticks);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) if (all[j]!.from <= all[i]!.to) out.push([all[i]!.pid, all[j]!.pid]);
  return out;
}
