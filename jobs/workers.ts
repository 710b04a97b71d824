// Starts the deploy workers (one per environment queue), listens for cancel requests from any
// process, and shuts down by handing running deploys back at the next step boundary. BullMQ's lock
// events tell each deploy run whether it still holds its deploy (see jobs/deploy-run.ts).
import { Worker } from 'bullmq';
import { escapeMrkdwn } from '../blocks/format.js';
import { cancelChannel } from '../src/deploys/deploy-service.js';
import { isFinal } from '../src/deploys/deploy-store.js';
import type { Deps } from '../src/deps.js';
import { createRedis } from '../src/core/redis.js';
import { createDeployProcessor, killLeftovers } from './deploy.js';
import { startMaintenanceWorker } from './maintenance-notice.js';
import { startFollowUpWorker } from './follow-up.js';
import { startFlagCleanup } from './flag-cleanup.js';
import { startReleaseWorker } from './release.js';
import { publishHome } from '../src/slack/home.js';
import { runUpload } from '../src/insight/insight.js';
import { createDeliverProcessor, type DeliverOptions } from './deliver.js';
import { DELIVER_QUEUE, deliveryKeys, wake, type DeliverJobData } from '../src/notify/delivery.js';
import { GATES_QUEUE, WATCH_QUEUE, deployJobId, deployQueueName, watchJobId, type DeployJobData, type GateJobData } from './queues.js';

export interface WorkerOptions {
  redisUrl: string;
  /** How long a worker's lock on a job lasts without renewal; a crashed worker's deploy is noticed after it. */
  lockDuration?: number;
  stalledInterval?: number;
  /** The delivery worker's Slack client and pacing (see jobs/deliver.ts). */
  deliver: Pick<DeliverOptions, 'slack' | 'editPaceMs' | 'backoffMs' | 'maxBackoffMs'>;
}

export interface RunningWorkers {
  workers: Worker<DeployJobData>[];
  close(): Promise<void>;
}

export async function startWorkers(deps: Deps, opts: WorkerOptions): Promise<RunningWorkers> {
  let shuttingDown = false;
  const lockDuration = opts.lockDuration ?? 30_000;
  const stalledInterval = opts.stalledInterval ?? 15_000;
  // Every queue's jobs are taken back from a dead worker as soon as a deploy's would be: a delivery job
  // held by a killed process would otherwise hold its channel's messages back until BullMQ's 30 s defaults.
  const locks = { lockDuration, stalledInterval };
  const processor = createDeployProcessor(deps, { shuttingDown: () => shuttingDown, lockDuration });
  const connection = createRedis(opts.redisUrl);
  const workers = deps.config.environments.map((env) => {
    const worker = new Worker<DeployJobData>(deployQueueName(env.name), processor.process, {
      connection,
      prefix: deps.prefix,
      concurrency: 1,
      ...locks,
      // A deploy that stalls is picked up again and ends as interrupted (or resumes); never failed silently.
      maxStalledCount: 3,
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      deps.log.error({ jobId: job.id, deployId: job.data.deployId, err: err.message }, 'deploy job failed');
      void markFailed(deps, job.data.deployId, job.id ?? job.data.deployId, err.message);
    });
    worker.on('locksRenewed', ({ jobIds }) => processor.locksRenewed(jobIds));
    worker.on('lockRenewalFailed', (jobIds) => processor.lockRenewalFailed(jobIds));
    worker.on('error', (err) => deps.log.error({ queue: env.name, err: err.message }, 'worker error'));
    return worker;
  });

  // Parked canaries and monitors (jobs/deploy.ts park): each deploy's one wake-up job runs an evaluation and parks
  // again, so many environments' watches share a few worker slots; their environments stay leased meanwhile.
  const watchWorker = new Worker<DeployJobData>(WATCH_QUEUE, processor.process, { connection, prefix: deps.prefix, concurrency: 8, ...locks, maxStalledCount: 3 });
  watchWorker.on('failed', (job, err) => {
    if (!job) return;
    deps.log.error({ jobId: job.id, deployId: job.data.deployId, err: err.message }, 'watch job failed');
    void markFailed(deps, job.data.deployId, job.id ?? job.data.deployId, err.message);
  });
  watchWorker.on('locksRenewed', ({ jobIds }) => processor.locksRenewed(jobIds));
  watchWorker.on('lockRenewalFailed', (jobIds) => processor.lockRenewalFailed(jobIds));
  watchWorker.on('error', (err) => deps.log.error({ queue: WATCH_QUEUE, err: err.message }, 'worker error'));
  // Leases a crash left behind (their deploy ended, or nothing can run it any more) are given back.
  const envNames = deps.config.environments.map((e) => e.name);
  const sweep = setInterval(() => {
    deps.queues.leases.sweep(envNames, deps.store).then(
      (freed) => freed.length && deps.log.warn({ envs: freed }, 'released stale environment leases'),
      (err: Error) => deps.log.debug({ err: err.message }, 'lease sweep failed'),
    );
  }, stalledInterval);
  sweep.unref();

  const gateWorker = new Worker<GateJobData>(
    GATES_QUEUE,
    async (job) => {
      if (job.data.kind === 'checks') await deps.gates.runChecks(job.data.deployId);
      else await deps.gates.expire(job.data.deployId);
    },
    { connection, prefix: deps.prefix, concurrency: 4, ...locks },
  );
  gateWorker.on('error', (err) => deps.log.error({ queue: GATES_QUEUE, err: err.message }, 'worker error'));
  const followUpWorker = startFollowUpWorker(deps, connection, locks);
  const flagCleanup = await startFlagCleanup(deps, connection, locks);
  const releaseWorker = startReleaseWorker(deps, connection, locks);
  // Maintenance-ahead notices (jobs/maintenance-notice.ts): only where a window asks for them.
  const maintenance = deps.config.schedule.maintenanceWindows.some((w) => w.notifyBefore) ? await startMaintenanceWorker(deps, connection, locks) : undefined;

  // Many channels drain side by side; each channel has one drainer at a time (its generation's job).
  const deliver = createDeliverProcessor({ ...opts.deliver, redis: deps.redis, prefix: deps.prefix, log: deps.log.child({ job: 'deliver' }), onPosted: (key, where) => deps.messenger.posted(key, where) });
  const deliverWorker = new Worker<DeliverJobData>(
    DELIVER_QUEUE,
    // 'home' jobs republish one user's App Home (its `channel` is the user); 'upload' jobs upload a file (its
    // `channel` is the upload's id, src/insight/insight.ts); the rest drain a channel's messages.
    (job, token) => (job.name === 'home' ? publishHome(deps, job.data.channel) : job.name === 'upload' ? runUpload(deps, opts.deliver.slack, job.data.channel) : deliver(job, token)),
    { connection, prefix: deps.prefix, concurrency: 16, maxStalledCount: 100, ...locks },
  );
  deliverWorker.on('error', (err) => deps.log.error({ queue: DELIVER_QUEUE, err: err.message }, 'worker error'));
  // A process that died between recording a message and adding its channel's job left it waiting: wake every such channel.
  const keys = deliveryKeys(deps.prefix);
  for (const channel of await deps.redis.smembers(keys.channels)) {
    await wake(deps.queues.deliver, channel, Number((await deps.redis.get(keys.gen(channel))) ?? 0));
  }

  const subscriber = createRedis(opts.redisUrl);
  // Without a listener ioredis prints "Unhandled error event" for every failed reconnect while Redis is away.
  subscriber.on('error', (err) => deps.log.debug({ err: err.message }, 'cancel subscriber connection error'));
  await subscriber.subscribe(cancelChannel(deps.prefix));
  subscriber.on('message', (_channel, deployId: string) => {
    for (const w of workers) w.cancelJob(deployJobId(deployId), 'cancelled from Slack');
    watchWorker.cancelJob(watchJobId(deployId), 'cancelled from Slack');
    // A parked watch is woken to take the cancel up (its run ends the deploy as cancelled).
    void deps.queues.wake(deployId);
  });

  await Promise.all([...workers, watchWorker, gateWorker, deliverWorker, followUpWorker, flagCleanup.worker, releaseWorker].map((w) => w.waitUntilReady()));
  return {
    workers,
    async close() {
      shuttingDown = true;
      clearInterval(sweep);
      await Promise.all([...workers, watchWorker, gateWorker, deliverWorker, followUpWorker, flagCleanup.worker, releaseWorker, ...(maintenance ? [maintenance.worker] : [])].map((w) => w.close()));
      await flagCleanup.queue.close();
      await maintenance?.queue.close();
      subscriber.disconnect();
      await connection.quit().catch(() => undefined);
    },
  };
}

/**
 * A job that failed outside the step loop (e.g. stalled too often) still ends its deploy visibly. It takes
 * the deploy over (a new runToken), so a run still holding it has every later write refused; a final status
 * is left as it is, and the log entry is written only when this write is the one that ended the deploy.
 */
async function markFailed(deps: Deps, deployId: string, jobId: string, reason: string): Promise<void> {
  try {
    // Whatever the failed run's step left running on this host ends before the deploy is shown as ended.
    const before = await deps.store.get(deployId);
    if (before && !isFinal(before.status)) await killLeftovers(before, deps.log.child({ deployId }));
    let ended = false;
    const done = await deps.store.update(deployId, (r) => {
      ended = false;
      if (isFinal(r.status)) return false;
      ended = true;
      r.runToken = `failed:${jobId}`;
      r.status = 'failed';
      r.error = `The deploy job failed: ${deps.mask(reason)}`;
      r.finishedAt = deps.now();
      for (const s of r.steps) if (s.status === 'pending' || s.status === 'running') s.status = s.status === 'running' ? 'interrupted' : 'skipped';
    });
    // Whoever ended it, a parked canary's environment is given back (never holding the log entry up).
    if (isFinal(done.status)) await deps.queues.leases.release(done.env, deployId).catch(() => undefined);
    if (!ended) return;
    await deps.messenger.sync(deployId);
    await deps.messenger.recordLog({ deployId, env: done.env, version: done.version, ref: done.ref, deployedBy: done.requestedBy, status: 'failed', at: deps.now(), notes: [escapeMrkdwn(done.error ?? reason)] });
    deps.notifier.finished(done);
  } catch (err) {
    deps.log.error({ deployId, err: (err as Error).message }, 'could not record a failed deploy');
  }
}
