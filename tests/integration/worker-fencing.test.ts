// A worker run that loses its deploy stops its step at once and writes nothing more: when another run
// takes the record over, when BullMQ cannot renew its lock, when the lock goes unrenewed (Redis away).
// And the whole story with real processes: Redis killed and restarted mid-step under two workers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaitingError, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployProcessor } from '../../jobs/deploy.js';
import { deployJobId, type DeployJobData } from '../../jobs/queues.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/core/redis.js';
import { allText, deployIdFrom, eventually, startTestBot, waitForEnd, type TestBot } from '../helpers/harness.js';
import { overlapping, readTicks, spans, spawnWorker, writeConfig, writeTicker, type WorkerProcess } from '../helpers/worker-process.js';

const dir = mkdtempSync(join(tmpdir(), 'shipmate-fencing-'));
const ticker = writeTicker(dir);
// One file per step; a resumed step works for `again` ticks only (its file exists by then).
const ticks = (env: string, id: string, step = 'apply') => join(dir, `${env}-${id}-${step}.ticks`);
const allTicks = (env: string, id: string) => ['prepare', 'apply', 'verify'].flatMap((s) => readTicks(ticks(env, id, s)));
const step = (name: string, count: number, retrySafe: boolean, again = count) => `
      - name: ${name}
        retrySafe: ${retrySafe}
        run: [sh, ${ticker}, '${dir}/{{env}}-{{deployId}}-${name}.ticks', '${count}', '${again}']`;

const YAML = `
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: solo
    steps:${step('apply', 100, false)}
  - name: sturdy
    steps:${step('prepare', 1, true)}${step('apply', 100, true, 10)}${step('verify', 1, true)}
  - name: fragile
    steps:${step('prepare', 1, true)}${step('apply', 100, false)}${step('verify', 1, true)}
`;

let redisDir: string;
let redis: EmbeddedRedis;
let app: TestBot;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redisDir = mkdtempSync(join(tmpdir(), 'shipmate-redis-'));
  redis = await startEmbeddedRedis({ dir: redisDir });
  app = await startTestBot({ configYaml: YAML, redisUrl: redis.url, role: 'app' });
});
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await app?.stop();
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Running (not exited, not a zombie left for init to reap). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

describe('a run that loses its deploy', () => {
  const LOCK = 2_000;

  /** The real deploy processor, driven by hand: no BullMQ worker renews or moves the job, the test does. */
  async function startRun() {
    const { deps } = app.shipmate;
    const id = deployIdFrom((await app.command('/deploy', 'solo v1', 'U0ALICE')).json.text);
    await deps.queues.removeWaiting('solo', id); // this test plays the worker
    const processor = createDeployProcessor(deps, { shuttingDown: () => false, lockDuration: LOCK });
    const handedBack: string[] = [];
    const job = { id: deployJobId(id), data: { deployId: id }, moveToWait: async (token: string) => void handedBack.push(token) } as unknown as Job<DeployJobData>;
    const renewing = setInterval(() => processor.locksRenewed([deployJobId(id)]), LOCK / 4);
    const result = processor.process(job, 'run-1', undefined).finally(() => clearInterval(renewing));
    result.catch(() => undefined);
    await eventually(() => readTicks(ticks('solo', id)).length > 0, 15_000, 'the step to work');
    const running = await deps.store.get(id);
    expect(running).toMatchObject({ runToken: 'run-1', status: 'running' });
    expect(running?.steps[0]).toMatchObject({ status: 'running', pgid: expect.any(Number) });
    return { id, processor, result, handedBack, renewing, running: running! };
  }

  /** The step's work stopped within `ms` of the loss, its processes are gone, and the run wrote nothing after it. */
  async function expectStoppedSilently(run: Awaited<ReturnType<typeof startRun>>, lostAt: number, revAtLoss: number, ms: number) {
    await expect(run.result).rejects.toBeInstanceOf(WaitingError);
    expect(run.handedBack).toEqual(['run-1']); // the job goes back to BullMQ for a new run
    const [work] = spans(readTicks(ticks('solo', run.id)));
    await new Promise((ok) => setTimeout(ok, 1_000));
    expect(readTicks(ticks('solo', run.id)).filter((t) => t.at > lostAt + ms)).toEqual([]);
    expect(work?.ended).toBe(false);
    expect(alive(work!.pid)).toBe(false);
    expect(alive(run.running.steps[0]!.pgid!)).toBe(false);
    const after = await app.shipmate.deps.store.get(run.id);
    expect(after?.rev).toBe(revAtLoss);
    expect(after?.steps[0]?.status).toBe('running'); // the next run decides: resume or interrupted
    expect((await app.shipmate.deps.store.recentLog(50)).filter((e) => e.deployId === run.id)).toEqual([]);
  }

  it('is taken over by another run: its step is killed and every write it tries is refused', async () => {
    const run = await startRun();
    // what another worker's pickup does: the record now belongs to that run
    const taken = await app.shipmate.deps.store.update(run.id, (r) => void (r.runToken = 'run-2'));
    const lostAt = Date.now();
    // noticed by the run's ownership check (every lock/4), then the step's process group gets SIGKILL
    await expectStoppedSilently(run, lostAt, taken.rev, LOCK / 2 + 300);
  }, 30_000);

  it('cannot renew its BullMQ lock: its step is killed at once and it writes nothing more', async () => {
    const run = await startRun();
    const rev = (await app.shipmate.deps.store.get(run.id))!.rev;
    const lostAt = Date.now();
    run.processor.lockRenewalFailed([deployJobId(run.id)]);
    await expectStoppedSilently(run, lostAt, rev, 250);
  }, 30_000);

  it('has not renewed its lock for most of its duration (Redis unreachable): it stops by itself before anyone else may start', async () => {
    const run = await startRun();
    const rev = (await app.shipmate.deps.store.get(run.id))!.rev;
    clearInterval(run.renewing);
    const lastRenewal = Date.now();
    await expectStoppedSilently(run, lastRenewal, rev, LOCK); // another worker could take over only after LOCK
  }, 30_000);
});

describe('Redis killed and restarted while a step runs, two worker processes', () => {
  function startWorker(): WorkerProcess {
    const w = spawnWorker({ configFile: writeConfig(YAML), redisUrl: redis.url, prefix: app.prefix, slackApiUrl: app.slack.url, lockMs: 2000 });
    workers.push(w);
    return w;
  }

  async function restartRedisDuring(env: string, version: string) {
    for (const w of workers.splice(0)) w.child.kill('SIGKILL');
    startWorker();
    startWorker();
    const id = deployIdFrom((await app.command('/deploy', `${env} ${version}`, 'U0ALICE')).json.text);
    await eventually(() => readTicks(ticks(env, id)).length >= 12, 20_000, 'apply to work');
    redis.process.kill('SIGKILL');
    await new Promise((ok) => setTimeout(ok, 5_000)); // longer than the 2 s lock: it expires meanwhile
    redis = await startEmbeddedRedis({ dir: redisDir, port: redis.port });
    const record = await waitForEnd(app, id, 30_000);
    return { id, record };
  }

  /** The final status and the one log entry stay as they are while any stale run could still act. */
  async function expectSettled(id: string, status: string) {
    await new Promise((ok) => setTimeout(ok, 3_000));
    expect((await app.shipmate.deps.store.get(id))?.status).toBe(status);
    expect((await app.shipmate.deps.store.recentLog(50)).filter((e) => e.deployId === id).map((e) => e.status)).toEqual([status]);
    const posted = app.slack.messages('C0DEPLOYLOG').filter((m) => new RegExp(`Deploy #${id}\\b`).test(allText(m)));
    expect(posted).toHaveLength(1);
  }

  it('a retry-safe step is resumed by one worker and never works in two places at once', async () => {
    const { id, record } = await restartRedisDuring('sturdy', 'v2');
    expect(record.status).toBe('succeeded');
    expect(record.notes.join(' ')).toContain('resumed at “apply”');
    expect(overlapping(allTicks('sturdy', id))).toEqual([]);
    // prepare, the apply that lost its lock (killed with 90 ticks to go), the resumed apply, verify
    expect(spans(allTicks('sturdy', id)).map((s) => s.ended)).toEqual([true, false, true, true]);
    await expectSettled(id, 'succeeded');
  }, 60_000);

  it('a step that is not retry-safe ends interrupted, and nothing of the first run works or writes after that', async () => {
    const { id, record } = await restartRedisDuring('fragile', 'v3');
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s) => s.status)).toEqual(['passed', 'interrupted', 'skipped']);
    await expectSettled(id, 'interrupted');
    const work = allTicks('fragile', id);
    expect(work.filter((t) => t.at > record.finishedAt!)).toEqual([]);
    expect(spans(work).map((s) => s.ended)).toEqual([true, false]); // apply never finished, verify never ran
  }, 60_000);
});
