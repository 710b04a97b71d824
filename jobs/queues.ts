// BullMQ queues: one change queue per environment, each with global concurrency 1, so only one change
// (deploy, rollback, migration, hotfix — DeployRecord.kind) runs per environment at a time across every worker process.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/core/config.js';
import { DELIVER_QUEUE, type DeliverJobData } from '../src/notify/delivery.js';
import { EnvLeases } from './env-lease.js';

export interface DeployJobData {
  deployId: string;
}

/** Gate work that must not run inside a Slack request: automatic checks, approval expiry. */
export interface GateJobData {
  kind: 'checks' | 'expire';
  deployId: string;
}

export const GATES_QUEUE = 'gates';

/**
 * Parked canary/monitor deploys (src/canary/watch.ts): between evaluations a deploy waits here as one delayed job,
 * holding no worker, while its environment's lease keeps the environment's own queue closed (jobs/env-lease.ts).
 */
export const WATCH_QUEUE = 'watch';

/** The one wake-up job of a deploy whose watch parked: moved back to delayed at each park, promoted by a click or a cancel. */
export function watchJobId(deployId: string): string {
  return `watch-${deployId}`;
}

export function deployQueueName(env: string): string {
  return `deploy.${env}`;
}

export function deployJobId(deployId: string): string {
  return `deploy-${deployId}`;
}

export class DeployQueues {
  readonly byEnv = new Map<string, Queue<DeployJobData>>();
  readonly gates: Queue<GateJobData>;
  /** Slack messages: one drainer job per channel at a time (src/notify/delivery.ts, jobs/deliver.ts). */
  readonly deliver: Queue<DeliverJobData>;
  readonly watch: Queue<DeployJobData>;
  readonly leases: EnvLeases;

  constructor(
    config: Config,
    connection: Redis,
    readonly prefix: string,
    onError: (queue: string, err: Error) => void = () => undefined,
  ) {
    this.gates = new Queue<GateJobData>(GATES_QUEUE, { connection, prefix });
    this.gates.on('error', (err) => onError(GATES_QUEUE, err));
    this.deliver = new Queue<DeliverJobData>(DELIVER_QUEUE, { connection, prefix });
    this.deliver.on('error', (err) => onError(DELIVER_QUEUE, err));
    this.watch = new Queue<DeployJobData>(WATCH_QUEUE, { connection, prefix });
    this.watch.on('error', (err) => onError(WATCH_QUEUE, err));
    this.leases = new EnvLeases(connection, prefix, this);
    for (const env of config.environments) {
      const q = new Queue<DeployJobData>(deployQueueName(env.name), { connection, prefix });
      q.on('error', (err) => onError(q.name, err));
      this.byEnv.set(env.name, q);
    }
  }

  queue(env: string): Queue<DeployJobData> {
    const q = this.byEnv.get(env);
    if (!q) throw new Error(`no deploy queue for environment ${env}`);
    return q;
  }

  /**
   * Sets global concurrency 1 on every environment's queue (idempotent; safe from every process) — 0 on one whose
   * lease a parked canary holds, so a process starting mid-canary never opens it (jobs/env-lease.ts).
   */
  async init(): Promise<void> {
    await this.leases.init([...this.byEnv.keys()]);
  }

  /** Parks a deploy whose watch waits: its wake-up job runs it again at `at` (epoch ms), or at once if promoted. */
  async park(deployId: string, at: number): Promise<void> {
    await this.watch.add('wake', { deployId }, { jobId: watchJobId(deployId), delay: Math.max(0, at - Date.now()), attempts: 1, removeOnComplete: { count: 500 }, removeOnFail: { count: 500 } });
  }

  /** Wakes a parked deploy now (a click, a cancel); false when it is not parked (running, or already woken). */
  async wake(deployId: string): Promise<boolean> {
    const job = await this.watch.getJob(watchJobId(deployId));
    if (!job) return false;
    return job.promote().then(() => true, () => false);
  }

  /**
   * Adds the change's job; the deterministic job id makes a second add of the same change a no-op. `jump` (a
   * rollback) puts it at the head of the wait list (BullMQ `lifo`: RPUSH onto the end workers pop from), so it
   * runs next — never beside the running change, which global concurrency 1 keeps alone. Not `priority`: in
   * BullMQ 6 prioritized jobs are taken only once the plain wait list is empty, i.e. after every waiting deploy.
   * A job handed back or recovered from a dead worker also goes to that head, so an interrupted change resumes first.
   * `delayMs` holds it back (a notice ahead): a delayed job is not active, so it holds no place in the environment's run.
   */
  async enqueue(env: string, deployId: string, opts: { jump?: boolean; delayMs?: number } = {}): Promise<void> {
    await this.queue(env).add(
      'deploy',
      { deployId },
      { jobId: deployJobId(deployId), attempts: 1, removeOnComplete: { count: 500 }, removeOnFail: { count: 500 }, ...(opts.jump ? { lifo: true } : {}), ...(opts.delayMs ? { delay: opts.delayMs } : {}) },
    );
  }

  async scheduleGateJob(data: GateJobData, delayMs: number, idSuffix: string): Promise<void> {
    await this.gates.add(data.kind, data, { jobId: `${data.kind}-${idSuffix}`, delay: delayMs, attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { count: 500 }, removeOnFail: { count: 500 } });
  }

  /** Removes a deploy that has not started yet; false when a worker already holds it. */
  async removeWaiting(env: string, deployId: string): Promise<boolean> {
    const job = await this.queue(env).getJob(deployJobId(deployId));
    if (!job) return true;
    try {
      await job.remove();
      return true;
    } catch {
      return false;
    }
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [env, q] of this.byEnv) out[env] = await q.getJobCounts('active', 'waiting', 'delayed', 'failed', 'completed');
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byEnv.values(), this.gates, this.deliver, this.watch].map((q) => q.close()));
  }
}
