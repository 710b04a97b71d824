// Follow-up reminders as BullMQ delayed jobs with deterministic ids, so they survive restarts, are never
// scheduled twice for one deploy, and can be removed by id: cancelled by a button, or superseded when a later
// deploy of the same environment succeeds. jobs/follow-up.ts posts them when they come due.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const FOLLOW_UPS_QUEUE = 'followups';
/** The most follow-ups one deploy can have (config allows 10, plus the post-mortem reminder). */
const MAX_PER_DEPLOY = 11;

export interface FollowUpJobData {
  deployId: string;
  env: string;
  kind: 'followUp' | 'postMortem';
  /** Its place among the deploy's follow-ups (the job id's last part). */
  n: number;
  /** The template, filled when it comes due (the deploy link and names as they are then). */
  text: string;
  /** The deploy's last follow-up: its message has no "Cancel follow-ups" button (nothing is left to cancel). */
  last?: boolean;
}

/** BullMQ refuses ':' in custom job ids (it keeps that shape for its own repeatable jobs), hence dashes. */
export function followUpJobId(deployId: string, n: number): string {
  return `followup-${deployId}-${n}`;
}

export class FollowUpQueue {
  readonly queue: Queue<FollowUpJobData>;

  constructor(connection: Redis, prefix: string, onError: (err: Error) => void = () => undefined) {
    this.queue = new Queue<FollowUpJobData>(FOLLOW_UPS_QUEUE, { connection, prefix });
    this.queue.on('error', onError);
  }

  /** Adds the reminders; adding a job id that exists is a no-op in BullMQ, so a retried finish schedules nothing twice. */
  async schedule(items: FollowUpJobData[], delays: number[]): Promise<void> {
    await this.queue.addBulk(items.map((data, i) => ({
      name: data.kind, data,
      opts: { jobId: followUpJobId(data.deployId, data.n), delay: delays[i] ?? 0, attempts: 5, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
    })));
  }

  /** Removes a deploy's reminders that have not been posted yet; returns how many. */
  async cancel(deployId: string, kinds: Array<FollowUpJobData['kind']> = ['followUp', 'postMortem']): Promise<number> {
    let removed = 0;
    for (let n = 0; n < MAX_PER_DEPLOY; n++) {
      const job = await this.queue.getJob(followUpJobId(deployId, n));
      if (!job || !kinds.includes(job.data.kind) || !(await job.isDelayed())) continue;
      removed += await this.queue.remove(job.id ?? '');
    }
    return removed;
  }

  /** The deploys of `env` other than `except` that still have follow-ups waiting (to supersede them). */
  async pendingDeploys(env: string, except: string): Promise<string[]> {
    const jobs = await this.queue.getDelayed(0, 200);
    return [...new Set(jobs.filter((j) => j.data.env === env && j.data.deployId !== except && j.data.kind === 'followUp').map((j) => j.data.deployId))];
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
