// The BullMQ queue that runs releases and hotfixes: one job per release (deterministic id), which advances the
// release's steps and, while it waits for a deploy or a click, puts itself back as delayed. A restarted worker
// takes the job back (stall recovery); GitHub failing makes the job fail and retry with backoff — the release
// record says which steps are done, so the retry starts at the first one that is not.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const RELEASES_QUEUE = 'releases';

export interface ReleaseJobData {
  releaseId: string;
}

/** BullMQ refuses ':' in custom job ids. */
export function releaseJobId(id: string): string {
  return `release-${id}`;
}

export class ReleaseQueue {
  readonly queue: Queue<ReleaseJobData>;

  constructor(connection: Redis, prefix: string, private readonly retryDelayMs: number, private readonly retries: number, onError: (err: Error) => void = () => undefined) {
    this.queue = new Queue<ReleaseJobData>(RELEASES_QUEUE, { connection, prefix });
    this.queue.on('error', onError);
  }

  /** Adds the release's job (a no-op while it exists); a job that failed for good is retried from where it stood. */
  async run(id: string): Promise<void> {
    const existing = await this.queue.getJob(releaseJobId(id));
    if (existing && (await existing.isFailed())) {
      await existing.retry('failed');
      return;
    }
    await this.queue.add('release', { releaseId: id }, {
      jobId: releaseJobId(id),
      // GitHub down for a while: retried, each try twice as far apart as the last, starting at the poll interval.
      attempts: this.retries + 1,
      backoff: { type: 'exponential', delay: this.retryDelayMs },
      removeOnComplete: { count: 200 },
      removeOnFail: { count: 200 },
    });
  }

  /** Wakes the release's delayed job at once (after a click), so nobody waits for the next poll. */
  async wake(id: string): Promise<void> {
    const job = await this.queue.getJob(releaseJobId(id));
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
