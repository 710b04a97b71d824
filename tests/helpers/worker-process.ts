// Spawns Shipmate's real entry point (src/main.ts) as a separate worker process, for crash and scale-out tests,
// and a step script that records which process did its work when, so overlapping runs show. workerFixture() is the
// set-up those tests share: real Redis, the Bolt app in the test process (role app), worker processes on demand, and
// steps that write start/end markers with timestamps (markerStep, readMarks).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { BOT_TOKEN, SIGNING_SECRET, startRedis, startTestBot, stopRedis, type TestBot } from './harness.js';

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

/** A new temporary directory for a test's marker files. */
export function marksDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `shipmate-${label}-`));
}

export interface MarkerOptions {
  /** YAML block indentation of the step's `- name:` line; undefined: a flow map `{ name: …, run: […] }` for inline use. */
  indent?: number;
  /** The marks file under `dir`, with {{variables}}; default `{{env}}-{{deployId}}.log`. */
  file?: string;
  /** What tells runs apart in each line; default `$$` (the step shell's pid). */
  who?: string;
}

/**
 * A run step that appends `start <name> <who> <ms>` to its marks file, sleeps `seconds`, then appends
 * `end <name> <who> <ms>` (ms: epoch milliseconds, so spans of different steps can be compared for overlap).
 */
export function markerStep(dir: string, name: string, seconds: number, retrySafe: boolean, opts: MarkerOptions = {}): string {
  const file = `${dir}/${opts.file ?? '{{env}}-{{deployId}}.log'}`;
  const who = opts.who ?? '$$';
  const run = `[sh, -c, 'echo "start ${name} ${who} $(date +%s%3N)" >> ${file}; sleep ${seconds}; echo "end ${name} ${who} $(date +%s%3N)" >> ${file}']`;
  if (opts.indent === undefined) return `{ name: ${name}, retrySafe: ${retrySafe}, run: ${run} }`;
  const pad = ' '.repeat(opts.indent);
  return `\n${pad}- name: ${name}\n${pad}  retrySafe: ${retrySafe}\n${pad}  run: ${run}`;
}

export interface Mark {
  kind: 'start' | 'end';
  step: string;
  who: string;
  at: number;
}

/** The marks of one file, in the order written. */
export function readMarks(dir: string, file: string): Mark[] {
  const path = join(dir, file);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => {
    const [kind, step, who, at] = line.split(' ');
    return { kind: kind as Mark['kind'], step: step ?? '', who: who ?? '', at: Number(at) };
  });
}

/** The marks of one file without their timestamps: "start apply 1234". */
export function markLines(dir: string, file: string): string[] {
  return readMarks(dir, file).map((m) => `${m.kind} ${m.step} ${m.who}`);
}

/** The number after "deploy #", "rollback #" or "migration #" in a reply ('' when none). */
export function idFrom(text: string | undefined, what: 'deploy' | 'migration' | 'rollback' = 'deploy'): string {
  return new RegExp(`${what} #(\\d+)`, 'i').exec(text ?? '')?.[1] ?? '';
}

export interface WorkerFixture {
  /** The Bolt app (role app: it runs no worker) fed signed requests; set in beforeAll. */
  readonly app: TestBot;
  readonly redisUrl: string;
  /** Every worker process started, live or not. */
  readonly workers: WorkerProcess[];
  /** Starts one more worker process on the fixture's config. */
  startWorker(opts?: { lockMs?: number }): WorkerProcess;
  /** SIGKILLs every worker started so far and waits for them to exit. */
  killWorkers(): Promise<void>;
}

/** Registers beforeAll/afterAll for a crash test: Redis, the app on `yaml`, and worker processes on demand. */
export function workerFixture(yaml: string): WorkerFixture {
  let app: TestBot | undefined;
  let redisUrl = '';
  const workers: WorkerProcess[] = [];
  const configFile = writeConfig(yaml);
  beforeAll(async () => {
    redisUrl = (await startRedis()).url;
    app = await startTestBot({ configYaml: yaml, redisUrl, role: 'app' });
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await app?.stop();
    await stopRedis();
  });
  const started = (): TestBot => {
    if (!app) throw new Error('the worker fixture has not started yet');
    return app;
  };
  return {
    get app() {
      return started();
    },
    get redisUrl() {
      return redisUrl;
    },
    workers,
    startWorker(opts = {}) {
      const w = spawnWorker({ configFile, redisUrl, prefix: started().prefix, slackApiUrl: started().slack.url, ...opts });
      workers.push(w);
      return w;
    },
    async killWorkers() {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
    },
  };
}
