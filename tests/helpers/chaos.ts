// Fault injection for the resilience suite: worker processes that can be SIGKILLed and replaced, a Redis that
// can be stopped and started again on the same port and data directory, and step marks (start/end lines
// written by tests/resilience/fixtures/marked-step.mjs) to prove no step ever ran twice at once.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/core/redis.js';
import { spawnWorker, writeConfig, type WorkerProcess } from './worker-process.js';

export const MARKED_STEP = resolve('tests/resilience/fixtures/marked-step.mjs');

/** A seeded random number generator (mulberry32), so a run's fault schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/**
 * A config step whose work runs in a grandchild of the worker (a shell runs node), marking its start and end
 * in `<dir>/<env>-<deployId>.log`.
 */
export function markedStep(dir: string, name: string, ms: number, retrySafe: boolean): string {
  return `
      - name: ${name}
        retrySafe: ${retrySafe}
        run: [sh, -c, 'node ${MARKED_STEP} ${dir}/{{env}}-{{deployId}}.log ${name} ${ms}; exit $?']`;
}

export interface StepRun {
  env: string;
  deployId: string;
  label: string;
  pid: number;
  start: number;
  end?: number;
}

/** Every step run recorded in a marks directory, for the given deploys (env, id). */
export function stepRuns(dir: string, deploys: ReadonlyArray<{ env: string; id: string }>): StepRun[] {
  const runs: StepRun[] = [];
  for (const { env, id } of deploys) {
    const file = join(dir, `${env}-${id}.log`);
    if (!existsSync(file)) continue;
    const byPid = new Map<number, StepRun>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [what, label, pid, at] = line.split(' ');
      if (!what || !label || !pid || !at) continue;
      const run = byPid.get(Number(pid)) ?? { env, deployId: id, label, pid: Number(pid), start: Number(at) };
      if (what === 'start') run.start = Number(at);
      else run.end = Number(at);
      byPid.set(run.pid, run);
    }
    runs.push(...byPid.values());
  }
  return runs;
}

/**
 * Pairs of runs that were alive at the same time. A run without an end (killed with its worker) counts only
 * at its start: what happened to it afterwards is unknown, and a survivor would have written its end.
 */
export function overlaps(runs: readonly StepRun[]): Array<[StepRun, StepRun]> {
  const out: Array<[StepRun, StepRun]> = [];
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i] as StepRun;
      const b = sorted[j] as StepRun;
      if (b.start < (a.end ?? a.start)) out.push([a, b]);
    }
  }
  return out;
}

export function describeRun(r: StepRun): string {
  return `${r.label} (pid ${r.pid}, ${r.end === undefined ? 'killed' : `${r.end - r.start} ms`})`;
}

/** Whether a process is still alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** The process's ancestors, nearest first (Linux /proc). */
export function ancestors(pid: number): number[] {
  const out: number[] = [];
  let current = pid;
  for (let i = 0; i < 20; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${current}/stat`, 'utf8');
    } catch {
      break;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!ppid || ppid <= 1) break;
    out.push(ppid);
    current = ppid;
  }
  return out;
}

/** Shipmate worker processes (`src/main.ts --role worker`) that a test kills and replaces. */
export class WorkerPool {
  readonly workers: WorkerProcess[] = [];
  private readonly configFile: string;
  kills = 0;

  constructor(private readonly opts: { yaml: string; redisUrl: string; prefix: string; slackApiUrl: string; lockMs?: number }) {
    this.configFile = writeConfig(opts.yaml);
  }

  /** Starts a worker; resolves once it has connected and taken work ("shipmate started"). */
  async start(): Promise<WorkerProcess> {
    const w = spawnWorker({ configFile: this.configFile, redisUrl: this.opts.redisUrl, prefix: this.opts.prefix, slackApiUrl: this.opts.slackApiUrl, lockMs: this.opts.lockMs ?? 2000 });
    this.workers.push(w);
    const deadline = Date.now() + 30_000;
    while (!w.output().includes('shipmate started')) {
      if (w.child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${w.output()}`);
      await sleep(50);
    }
    return w;
  }

  live(): WorkerProcess[] {
    return this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  /** The live worker that is an ancestor of `pid` (the worker running that step), if any. */
  ownerOf(pid: number): WorkerProcess | undefined {
    const up = new Set(ancestors(pid));
    return this.live().find((w) => w.child.pid !== undefined && up.has(w.child.pid));
  }

  async kill(w: WorkerProcess): Promise<void> {
    w.child.kill('SIGKILL');
    await w.exited;
    this.kills += 1;
  }

  async stopAll(): Promise<void> {
    for (const w of this.live()) w.child.kill('SIGKILL');
    await Promise.all(this.workers.map((w) => w.exited));
  }
}

/** A redis-server that can be stopped (SIGTERM, so it writes its AOF) and started again on the same port and data directory. */
export class RestartableRedis {
  private server?: EmbeddedRedis;
  readonly dir = mkdtempSync(join(tmpdir(), 'shipmate-redis-'));
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = await startEmbeddedRedis({ dir: this.dir, ...(this.port ? { port: this.port } : {}) });
    this.port = this.server.port;
  }

  /** Kills redis-server (SIGTERM) and waits until it has exited. */
  async kill(): Promise<void> {
    const child = this.server?.process;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGTERM');
    await gone;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
