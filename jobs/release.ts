// The release worker: runs one release job at a time per release (its deterministic job id), advancing it as far
// as it can; while it waits (a deploy, a click) the job puts itself back as delayed for the poll interval. A job
// failing for good (GitHub down through every retry) ends the release visibly, resumable with /release resume.
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Deps } from '../src/deps.js';
import { RELEASES_QUEUE, type ReleaseJobData } from '../src/releases/release-queue.js';

export function startReleaseWorker(deps: Deps, connection: Redis, locks: { lockDuration: number; stalledInterval: number }): Worker<ReleaseJobData> {
  const poll = deps.config.releases.pollInterval;
  const worker = new Worker<ReleaseJobData>(
    RELEASES_QUEUE,
    async (job: Job<ReleaseJobData>, token?: string) => {
      const log = deps.log.child({ job: 'release', releaseId: job.data.releaseId, attempt: job.attemptsMade });
      const outcome = await deps.releases.advance(job.data.releaseId);
      if (outcome === 'wait') {
        await job.moveToDelayed(Date.now() + poll, token);
        throw new DelayedError();
      }
      log.info('release job done');
    },
    { connection, prefix: deps.prefix, concurrency: 4, ...locks },
  );
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError) return;
    const last = job.attemptsMade >= (job.opts.attempts ?? 1);
    deps.log.warn({ releaseId: job.data.releaseId, err: err.message, attempt: job.attemptsMade, last }, last ? 'release job gave up' : 'release step failed: retrying');
    if (last) void deps.releases.givenUp(job.data.releaseId, err.message);
  });
  worker.on('error', (err) => deps.log.error({ queue: RELEASES_QUEUE, err: err.message }, 'worker error'));
  return worker;
}
