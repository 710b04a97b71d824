// The weekly list of flags fully on everywhere for longer than `flags.staleAfter` (Ontos: remove flags once the
// feature is stable). A BullMQ Job Scheduler (upsertJobScheduler: one schedule however many workers start,
// updated when the cron changes) makes one job per run; the message is keyed by the job id, so a retried run
// posts nothing twice.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Deps } from '../src/deps.js';
import { staleFlagsMessage } from '../blocks/flags.js';

export const FLAG_CLEANUP_QUEUE = 'flag-cleanup';
export const FLAG_CLEANUP_SCHEDULER = 'stale-flags';

/** Posts the removal candidates (nothing when there are none); returns how many were listed. */
export async function listStaleFlags(deps: Pick<Deps, 'flags' | 'config' | 'delivery' | 'log'>, runId: string): Promise<number> {
  const stale = await deps.flags.staleFlags();
  const channel = deps.config.flags.cleanupChannel ?? deps.config.channels.deployLog;
  if (stale.length === 0) return 0;
  if (!channel) {
    deps.log.info({ flags: stale.map((s) => s.flag.key) }, 'stale flags found; no flags.cleanupChannel or channels.deployLog to list them in');
    return stale.length;
  }
  await deps.delivery.send({ key: `flag:stale:${runId}`, channel, ...staleFlagsMessage(stale) });
  return stale.length;
}

export async function startFlagCleanup(deps: Deps, connection: Redis, locks: { lockDuration: number; stalledInterval: number }): Promise<{ queue: Queue; worker: Worker }> {
  const queue = new Queue(FLAG_CLEANUP_QUEUE, { connection, prefix: deps.prefix });
  queue.on('error', (err) => deps.log.warn({ queue: FLAG_CLEANUP_QUEUE, err: err.message }, 'queue connection error'));
  await queue.upsertJobScheduler(FLAG_CLEANUP_SCHEDULER, { pattern: deps.config.flags.cleanupCron, tz: 'UTC' }, {
    name: FLAG_CLEANUP_SCHEDULER,
    data: {},
    opts: { attempts: 5, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
  });
  const worker = new Worker(FLAG_CLEANUP_QUEUE, (job) => listStaleFlags(deps, job.id ?? String(job.timestamp)), { connection, prefix: deps.prefix, concurrency: 1, ...locks });
  worker.on('error', (err) => deps.log.error({ queue: FLAG_CLEANUP_QUEUE, err: err.message }, 'worker error'));
  return { queue, worker };
}
