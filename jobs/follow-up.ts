// The follow-up job: posts a reminder (1-day check-in, post-mortem, …) when its delayed job comes due. The
// job id is deterministic (src/notify/follow-ups.ts) and the message keyed, so a retry or a second worker
// posts nothing twice; Slack being away fails the attempt and BullMQ retries it with backoff.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Deps } from '../src/deps.js';
import { FOLLOW_UPS_QUEUE, type FollowUpJobData } from '../src/notify/follow-ups.js';

export function startFollowUpWorker(deps: Deps, connection: Redis, locks: { lockDuration: number; stalledInterval: number }): Worker<FollowUpJobData> {
  const worker = new Worker<FollowUpJobData>(FOLLOW_UPS_QUEUE, (job) => deps.notifier.followUpDue(job.data), { connection, prefix: deps.prefix, concurrency: 2, ...locks });
  worker.on('failed', (job, err) => deps.log.warn({ jobId: job?.id, err: err.message }, 'follow-up not posted yet'));
  worker.on('error', (err) => deps.log.error({ queue: FOLLOW_UPS_QUEUE, err: err.message }, 'worker error'));
  return worker;
}
