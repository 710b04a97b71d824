// Resilience row: defect 1's scenario, repeated. The app plus two worker processes (lock 2 s); while a long
// step runs in two environments (one retrySafe, one not), redis-server is killed and started again 3–4 s
// later on the same port and data directory, and a /deploy arrives while it is down. Every deploy must end
// visibly with one log entry, no step may run twice at once nor after its deploy ended, no final status may
// change, and the command sent during the outage must be answered within 3 s and never run later.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DeployStatus } from '../../src/deploys/deploy-store.js';
import { startTestBot, type TestBot } from '../helpers/harness.js';
import { RestartableRedis, WorkerPool, markedStep, seededRandom, sleep, stepRuns } from '../helpers/chaos.js';
import { deployProblems, waitForAllFinal, type Tracked, waitForMessages } from './deploy-checks.js';
import { ROWS, Tally, lostMessage } from './table.js';

const SEED = Number(process.env.RESILIENCE_SEED ?? 8);
const ROUNDS = 3;
const APPLY_MS = 8000;
const marks = mkdtempSync(join(tmpdir(), 'shipmate-marks-'));
const env = (name: string, applySafe: boolean) => `
  - name: ${name}
    steps:${markedStep(marks, 'prepare', 300, true)}${markedStep(marks, 'apply', APPLY_MS, applySafe)}${markedStep(marks, 'verify', 300, true)}`;
const YAML = `
channels: { deployLog: C0DEPLOYLOG }
environments:${env('sturdy', true)}${env('fragile', false)}
`;

const redis = new RestartableRedis();
let app: TestBot;
let pool: WorkerPool;

beforeAll(async () => {
  await redis.start();
  app = await startTestBot({ configYaml: YAML, redisUrl: redis.url, role: 'app' });
  pool = new WorkerPool({ yaml: YAML, redisUrl: redis.url, prefix: app.prefix, slackApiUrl: app.slack.url, lockMs: 2000 });
  await Promise.all([pool.start(), pool.start()]);
});
afterAll(async () => {
  await pool?.stopAll();
  await app?.stop();
  await redis.stop();
});

it(ROWS.redisRestart, async ({ task }) => {
  const rand = seededRandom(SEED);
  const tally = new Tally('redisRestart');
  const deploys: Tracked[] = [];
  const firstFinal = new Map<string, DeployStatus>();
  const outage: Array<{ ref: string; status: number; ms: number; text: string }> = [];

  for (let round = 1; round <= ROUNDS; round++) {
    const batch: Tracked[] = [];
    for (const name of ['sturdy', 'fragile']) {
      // Just after a restart the request connection may still be reconnecting: told so, a person tries again.
      let res = await app.command('/deploy', `${name} v${round}.0.0`, 'U0ALICE');
      for (let tries = 0; tries < 10 && /can’t reach its database/.test(String(res.json?.text ?? '')); tries++) {
        await sleep(300);
        res = await app.command('/deploy', `${name} v${round}.0.0`, 'U0ALICE');
      }
      batch.push({ id: /deploy #(\d+)/.exec(res.json?.text ?? '')?.[1] ?? `?${name}${round} (answered ${res.status}: ${String(res.json?.text ?? '').slice(0, 120)})`, env: name });
    }
    deploys.push(...batch);
    const started = Date.now();
    while (stepRuns(marks, batch).filter((r) => r.label === 'apply').length < batch.length && Date.now() - started < 20_000) await sleep(20);
    await sleep(300 + rand() * 500);

    await redis.kill();
    const ref = `v${round}.9.9-outage`;
    const res = await app.command('/deploy', `sturdy ${ref}`, 'U0ALICE').catch((err: Error) => ({ status: 0, ms: 0, json: { text: err.message } }));
    outage.push({ ref, status: res.status, ms: res.ms, text: String(res.json?.text ?? '') });
    await sleep(Math.max(0, 3000 + rand() * 1000 - res.ms));
    await redis.start();

    await waitForAllFinal(app, batch, Date.now() + 60_000, firstFinal);
  }
  // Long enough for a stale run to finish its step (or show itself) and for a late write to land.
  await sleep(APPLY_MS + 1000);

  await waitForMessages(app, deploys, Date.now() + 60_000, { deployLogChannel: 'C0DEPLOYLOG' });
  for (const d of deploys) tally.check(`deploy #${d.id} (${d.env})`, await deployProblems(app, marks, d, deploys, firstFinal, { deployLogChannel: 'C0DEPLOYLOG' }));
  const seq = Number(await app.shipmate.deps.redis.get(`${app.prefix}:seq:deploy`));
  const records = await app.shipmate.deps.store.getMany(Array.from({ length: seq }, (_, i) => String(i + 1)));
  for (const o of outage) {
    const late = records.find((r) => r.version === o.ref);
    tally.check(`/deploy during the outage (${o.ref})`, [
      o.status !== 200 && `answered ${o.status || o.text}`,
      o.ms >= 3000 && `answered after ${Math.round(o.ms)} ms`,
      late && `deploy #${late.id} was created (${late.status}) although Redis was down`,
    ]);
  }
  const statuses = (await app.shipmate.deps.store.getMany(deploys.map((d) => d.id))).map((r) => r.status);
  const row = tally.record(task, `${ROUNDS} restarts, ${deploys.length} deploys (${statuses.join(', ')}) + ${outage.length} commands during outages`);
  // When something was lost, the workers' own logs say why: kept beside the table for whoever investigates.
  if (row.lost > 0) writeFileSync('test-results/resilience-redis-restart-workers.log', pool.workers.map((w, i) => `== worker ${i + 1}\n${w.output()}`).join('\n'));
  expect(row.lost, lostMessage(row)).toBe(0);
}, 240_000);
