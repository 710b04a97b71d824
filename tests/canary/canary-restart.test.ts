// A worker process killed in the middle of a canary hold: another worker resumes the watch where it stood
// (same phase, same hold start, the weight not set again), against a real Prometheus. Between evaluations the
// watch is parked (a delayed wake-up job, no worker holds it), so a kill or a shutdown there loses nothing.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryPrometheus } from '../../src/canary/prometheus.js';
import { watchJobId } from '../../jobs/queues.js';
import { eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { spawnWorker, writeConfig, type WorkerProcess } from '../helpers/worker-process.js';
import { startPrometheus, startTarget, type MetricsTarget, type PrometheusServer } from './prometheus-server.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-canary-restart-'));
const HOLD_MS = 6_000;
const yaml = (prom: string) => `
environments:
  - name: production
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: 0.5s
          setWeight: { run: [sh, -c, 'echo "weight $1 $(date +%s%3N)" >> ${marks}/$2.log', sh, '{{weight}}', '{{deployId}}'] }
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{deployId}}'] }
          phases: [{ weight: 5, hold: ${HOLD_MS / 1000}s }, { weight: 100 }]
          metrics: [{ name: error rate, query: 'app_error_ratio{svc="restart",track="{{track}}"}', max: 0.01, for: 2s }]
  - name: staging
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: 0.5s
          # Setting 100 % takes 3 s: a worker killed then dies in the middle of an evaluation, not while parked.
          setWeight: { run: [sh, -c, 'echo "weight $1 $(date +%s%3N)" >> ${marks}/$2.log; [ "$1" != 100 ] || [ -e ${marks}/$2.slow ] || { touch ${marks}/$2.slow; sleep 3; }', sh, '{{weight}}', '{{deployId}}'] }
          phases: [{ weight: 5, hold: 1s }, { weight: 100 }]
          metrics: [{ name: error rate, query: 'app_error_ratio{svc="restart",track="{{track}}"}', max: 0.01, for: 2s }]
`;

let target: MetricsTarget;
let prom: PrometheusServer;
let app: TestBot;
let redisUrl: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  target = await startTarget();
  const [redis, p] = await Promise.all([startRedis(), startPrometheus(target.port)]);
  prom = p;
  redisUrl = redis.url;
  app = await startTestBot({ configYaml: yaml(prom.url), redisUrl, role: 'app' });
  for (const t of ['canary', 'stable'] as const) target.set('restart', t, { errors: 0.001, latency: 0.1 });
  await eventually(async () => (await queryPrometheus(prom.url, 'count(app_error_ratio{svc="restart"})')).kind === 'value', 10_000, 'a scrape');
}, 30_000);
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await app?.stop();
  await prom?.stop();
  await target?.close();
  await stopRedis();
});

function lines(id: string): string[] {
  const file = join(marks, `${id}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

describe('a worker killed mid-hold', () => {
  it('resumes the watch where it stood instead of restarting the hold', async () => {
    const configFile = writeConfig(yaml(prom.url));
    const first = spawnWorker({ configFile, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url });
    workers.push(first);
    const id = /#(\d+)/.exec((await app.command('/deploy', 'production v2', 'U0ALICE')).json.text ?? '')?.[1] ?? '';
    const before = await eventually(async () => {
      const w = (await app.shipmate.deps.store.get(id))?.steps[0]?.watch;
      return w?.phaseStartedAt !== undefined && Object.keys(w.latest).length > 0 ? w : undefined;
    }, 40_000, 'the hold to start');
    await new Promise((ok) => setTimeout(ok, 1_000));
    await eventually(async () => (await (await app.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState()) === 'delayed', 5_000, 'the watch parked');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = spawnWorker({ configFile, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url });
    workers.push(second);
    // When the second worker could take the deploy over (a new worker process can take seconds to start under load).
    const resumedAt = await eventually(() => (second.output().includes('shipmate started') ? Date.now() : undefined), 30_000, 'the second worker');
    const done = await waitForEnd(app, id, 60_000);
    expect(done.status).toBe('succeeded');
    // Killed while parked, nothing was interrupted: the wake-up job simply ran on the new worker.
    expect(done.runs).toBe(1);
    expect(done.notes.join('\n')).not.toMatch(/after a worker crash/);
    const watch = done.steps[0]?.watch;
    // The same hold, not a new one: it began when the first worker set the weight, which was set once.
    expect(watch?.phase).toBe(2);
    const weights = lines(id).filter((l) => l.startsWith('weight'));
    expect(weights.map((l) => l.split(' ')[1])).toEqual(['5', '100']);
    const held = Number(weights[1]?.split(' ')[2]) - Number(weights[0]?.split(' ')[2]);
    console.log(`[canary restart] hold of ${HOLD_MS} ms across a worker kill took ${held} ms (a restarted hold would take over ${HOLD_MS + 1_000 + 2_000} ms)`);
    expect(held).toBeGreaterThanOrEqual(HOLD_MS - 100);
    // The hold ends HOLD_MS after the weight was set, or at once if the new run came later; a restarted hold
    // would end HOLD_MS after the new run started.
    const w5 = Number(weights[0]?.split(' ')[2]);
    const w100 = Number(weights[1]?.split(' ')[2]);
    expect(w100).toBeLessThan(Math.max(w5 + HOLD_MS, resumedAt) + 2_000);
    if (resumedAt < w5 + HOLD_MS - 2_500) expect(held).toBeLessThan(HOLD_MS + 2_500);
    expect(before.phaseStartedAt).toBeLessThanOrEqual(Number(weights[0]?.split(' ')[2]) + 1_000);
  }, 90_000);

  it('a worker shutting down mid-hold leaves the parked deploy to the next one, which resumes it', async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    const configFile = writeConfig(yaml(prom.url));
    const first = spawnWorker({ configFile, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url });
    workers.push(first);
    const id = /#(\d+)/.exec((await app.command('/deploy', 'production v3', 'U0ALICE')).json.text ?? '')?.[1] ?? '';
    await eventually(async () => (await app.shipmate.deps.store.get(id))?.steps[0]?.watch?.phaseStartedAt, 40_000, 'the hold to start');
    await eventually(async () => (await (await app.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState()) === 'delayed', 5_000, 'the watch parked');
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    await first.exited;
    // Shutting down does not wait the 6 s hold out: no worker holds it.
    expect(Date.now() - stoppedAt).toBeLessThan(4_000);
    const handed = await app.shipmate.deps.store.get(id);
    expect(handed?.handedBack).toBe(true);
    expect(handed?.parkedUntil).toBeGreaterThan(0);
    workers.push(spawnWorker({ configFile, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url }));
    const done = await waitForEnd(app, id, 60_000);
    expect(done.status).toBe('succeeded');
    expect(lines(id).filter((l) => l.startsWith('weight')).map((l) => l.split(' ')[1])).toEqual(['5', '100']);
  }, 90_000);

  it('a worker killed in the middle of an evaluation: its wake-up job is taken back and the watch resumes', async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    const configFile = writeConfig(yaml(prom.url));
    const first = spawnWorker({ configFile, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url });
    workers.push(first);
    const id = /#(\d+)/.exec((await app.command('/deploy', 'staging v4', 'U0ALICE')).json.text ?? '')?.[1] ?? '';
    // Setting 100 % runs inside a woken watch (the hold of phase 1 was parked): kill the worker then.
    await eventually(() => lines(id).some((l) => l.startsWith('weight 100')), 40_000, 'the slow weight command');
    expect((await (await app.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState())).toBe('active');
    first.child.kill('SIGKILL');
    await first.exited;
    workers.push(spawnWorker({ configFile, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url }));
    const done = await waitForEnd(app, id, 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.runs).toBe(2);
    expect(done.notes.join('\n')).toMatch(/resumed at “Canary” after a worker crash/);
    // The interrupted weight command ran again (setting a weight is idempotent); phase 1's was not.
    expect(lines(id).filter((l) => l.startsWith('weight')).map((l) => l.split(' ')[1])).toEqual(['5', '100', '100']);
    // Released just after the final write (waitForEnd may see that write first).
    await eventually(async () => (await app.shipmate.deps.redis.get(`${app.prefix}:env-lease:staging`)) === null, 5_000, 'the lease released');
  }, 90_000);
});
