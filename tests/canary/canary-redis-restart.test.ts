// redis-server stopped and started again (same port, same data) while a canary is parked in its hold: the wake-up
// job, the watch state and the environment lease live in Redis, so the canary goes on where it stood — promoted
// when healthy, rolled back (never promoted) when the canary breaches while Redis is away. App + worker process.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryPrometheus } from '../../src/canary/prometheus.js';
import { leaseKey } from '../../jobs/env-lease.js';
import { watchJobId } from '../../jobs/queues.js';
import { RestartableRedis, sleep } from '../helpers/chaos.js';
import { eventually, startTestBot, waitForEnd, type TestBot } from '../helpers/harness.js';
import { spawnWorker, writeConfig, type WorkerProcess } from '../helpers/worker-process.js';
import { startPrometheus, startTarget, type MetricsTarget, type PrometheusServer } from './prometheus-server.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-canary-redis-'));
const env = (name: string, prom: string, hold: string) => `
  - name: ${name}
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: 0.5s
          setWeight: { run: [sh, -c, 'echo "weight $1 $(date +%s%3N)" >> ${marks}/$2.log', sh, '{{weight}}', '{{deployId}}'] }
          abort: { run: [sh, -c, 'echo "abort $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{deployId}}'] }
          phases: [{ weight: 5, hold: ${hold} }, { weight: 100 }]
          metrics: [{ name: error rate, query: 'app_error_ratio{svc="{{env}}",track="{{track}}"}', max: 0.01, for: 1.5s }]
      - name: After
        run: [sh, -c, 'echo "after $(date +%s%3N)" >> ${marks}/$1.log', sh, '{{deployId}}']`;
const yaml = (prom: string) => `
environments:${env('healthy', prom, '5s')}${env('breach', prom, '60s')}
`;

const redis = new RestartableRedis();
let target: MetricsTarget;
let prom: PrometheusServer;
let app: TestBot;
let worker: WorkerProcess;

const lines = (id: string) => {
  const file = join(marks, `${id}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
};
const weights = (id: string) => lines(id).filter((l) => l.startsWith('weight')).map((l) => Number(l.split(' ')[1]));

beforeAll(async () => {
  target = await startTarget();
  const [, p] = await Promise.all([redis.start(), startPrometheus(target.port)]);
  prom = p;
  app = await startTestBot({ configYaml: yaml(prom.url), redisUrl: redis.url, role: 'app' });
  worker = spawnWorker({ configFile: writeConfig(yaml(prom.url)), redisUrl: redis.url, prefix: app.prefix, slackApiUrl: app.slack.url });
  for (const svc of ['healthy', 'breach']) for (const t of ['canary', 'stable'] as const) target.set(svc, t, { errors: 0.001, latency: 0.1 });
  await eventually(async () => (await queryPrometheus(prom.url, 'count(app_error_ratio)')).kind === 'value', 10_000, 'a scrape');
  await eventually(() => worker.output().includes('shipmate started'), 30_000, 'the worker');
}, 60_000);
afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await app?.stop();
  await prom?.stop();
  await target?.close();
  await redis.stop();
}, 20_000);

async function deploy(envName: string): Promise<string> {
  let res = await app.command('/deploy', `${envName} v2`, 'U0ALICE');
  // Just after a restart the request connection may still be reconnecting: a person tries again.
  for (let tries = 0; tries < 10 && !/#\d+/.test(String(res.json?.text ?? '')); tries++) {
    await sleep(300);
    res = await app.command('/deploy', `${envName} v2`, 'U0ALICE');
  }
  const id = /#(\d+)/.exec(res.json.text ?? '')?.[1];
  if (!id) throw new Error(`no deploy id in ${JSON.stringify(res.json)}`);
  return id;
}

async function parked(id: string): Promise<void> {
  await eventually(async () => (await (await app.shipmate.deps.queues.watch.getJob(watchJobId(id)))?.getState()) === 'delayed', 10_000, 'the watch parked');
}

describe('Redis restarted during a parked hold', () => {
  it('a healthy canary goes on where it stood and is promoted once, its environment given back', async () => {
    const id = await deploy('healthy');
    await parked(id);
    await redis.kill();
    await sleep(2_500);
    await redis.start();
    const done = await waitForEnd(app, id, 30_000);
    expect(done.status).toBe('succeeded');
    expect(weights(id)).toEqual([5, 100]);
    expect(lines(id).filter((l) => l.startsWith('after'))).toHaveLength(1);
    expect(done.steps[0]?.watch?.ended).toBe('promoted');
    await eventually(async () => (await app.shipmate.deps.redis.get(leaseKey(app.prefix, 'healthy'))) === null, 5_000, 'the lease released');
  }, 60_000);

  it('a canary that breaches while Redis is away is rolled back at its phase, never promoted', async () => {
    const id = await deploy('breach');
    await parked(id);
    await redis.kill();
    target.set('breach', 'canary', { errors: 0.05, latency: 0.1 });
    await sleep(2_500);
    await redis.start();
    const done = await waitForEnd(app, id, 30_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/rolled back at phase 1 \(5 %\): error rate = 0\.05/);
    expect(weights(id)).toEqual([5]);
    expect(lines(id).filter((l) => l.startsWith('abort'))).toHaveLength(1);
    expect(lines(id).some((l) => l.startsWith('after'))).toBe(false);
    expect(done.steps[0]?.watch?.ended).toBe('rolled-back');
    await eventually(async () => (await app.shipmate.deps.redis.get(leaseKey(app.prefix, 'breach'))) === null, 5_000, 'the lease released');
  }, 60_000);
});
