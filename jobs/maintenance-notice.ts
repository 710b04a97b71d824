// "Maintenance ahead" notices: for each maintenance window with `notifyBefore`, a BullMQ delayed job due that long
// before the window's next start (never a Node timer: it survives restarts and is due once across processes, its
// job id being the window and its start). When it runs it tells the covered environments' stakeholders
// (notifier.maintenanceAhead, which needs the `maintenance` event in their notifications) and adds the job of
// the following occurrence.
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import ms from 'ms';
import type { Deps } from '../src/deps.js';
import { windowSpan } from '../src/schedule/schedule.js';
import { upcoming } from '../src/schedule/time-rules.js';

export const MAINTENANCE_QUEUE = 'maintenance';

export interface MaintenanceJobData {
  window: string;
  start: number;
}

/** Adds the next notice of every window that asks for one, starting after `after` (adding an existing job id is a no-op). */
export async function scheduleMaintenanceNotices(deps: Pick<Deps, 'config' | 'now'>, queue: Queue<MaintenanceJobData>, after = deps.now()): Promise<void> {
  for (const w of deps.config.schedule.maintenanceWindows) {
    if (!w.notifyBefore) continue;
    const next = upcoming(windowSpan(deps.config, w), after, 2).find((o) => o.start > after);
    if (!next) continue;
    await queue.add('maintenance', { window: w.name, start: next.start }, {
      jobId: `maintenance-${w.name}-${next.start}`, delay: Math.max(0, next.start - w.notifyBefore - deps.now()),
      attempts: 5, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 },
    });
  }
}

export async function startMaintenanceWorker(deps: Deps, connection: Redis, locks: { lockDuration: number; stalledInterval: number }): Promise<{ worker: Worker<MaintenanceJobData>; queue: Queue<MaintenanceJobData> }> {
  const queue = new Queue<MaintenanceJobData>(MAINTENANCE_QUEUE, { connection, prefix: deps.prefix });
  queue.on('error', (err) => deps.log.warn({ queue: MAINTENANCE_QUEUE, err: err.message }, 'queue connection error'));
  const worker = new Worker<MaintenanceJobData>(MAINTENANCE_QUEUE, async (job: Job<MaintenanceJobData>) => {
    const w = deps.config.schedule.maintenanceWindows.find((x) => x.name === job.data.window);
    if (!w) return;
    const envs = w.environments.length ? w.environments : deps.config.environments.map((e) => e.name);
    const notes = `Maintenance window *${w.name}* (${ms(w.duration, { long: true })}).`;
    await Promise.all(envs.map((env) => deps.notifier.maintenanceAhead(env, { start: job.data.start, notes })));
    await scheduleMaintenanceNotices(deps, queue, job.data.start);
  }, { connection, prefix: deps.prefix, concurrency: 1, ...locks });
  worker.on('error', (err) => deps.log.error({ queue: MAINTENANCE_QUEUE, err: err.message }, 'worker error'));
  await scheduleMaintenanceNotices(deps, queue).catch((err: Error) => deps.log.warn({ err: err.message }, 'maintenance notices not scheduled'));
  return { worker, queue };
}
