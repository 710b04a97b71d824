// Resilience row: two worker processes, 20 deploys over four environments, and a worker SIGKILLed at random
// moments while it runs a step (a replacement is started each time). Every deploy must end visibly, with one
// log entry, and no step may ever run twice at once — steps marked retrySafe resume, the others end
// interrupted. Kills land only while every running deploy is inside a step whose worker is alive, so no kill
// falls into the few milliseconds in which a deploy writes its end (that window is not what this row measures).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DeployStatus } from '../../src/deploys/deploy-store.js';
import { startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { WorkerPool, alive, markedStep, seededRandom, sleep, stepRuns } from '../helpers/chaos.js';
import { deployProblems, waitForAllFinal, type Tracked, waitForMessages } from './deploy-checks.js';
import { ROWS, Tally, lostMessage } from './table.js';

const SEED = Number(process.env.RESILIENCE_SEED ?? 8);
const DEPLOYS = 20;
const marks = mkdtempSync(join(tmpdir(), 'shipmate-marks-'));
const DURATION: Record<string, number> = { prepare: 300, apply: 4000, verify: 300 };
const env = (name: string, applySafe: boolean) => `
  - name: ${name}
    steps:${markedStep(marks, 'prepare', DURATION.prepare ?? 0, true)}${markedStep(marks, 'apply', DURATION.apply ?? 0, applySafe)}${markedStep(marks, 'verify', DURATION.verify ?? 0, true)}`;
const ENVS = ['sturdy1', 'fragile1', 'sturdy2', 'fragile2'];
const YAML = `
channels: { deployLog: C0DEPLOYLOG }
environments:${ENVS.map((e) => env(e, e.startsWith('sturdy'))).join('')}
`;

let app: TestBot;
let pool: WorkerPool;

beforeAll(async () => {
  const redisUrl = (await startRedis()).url;
  app = await startTestBot({ configYaml: YAML, redisUrl, role: 'app' });
  pool = new WorkerPool({ yaml: YAML, redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url, lockMs: 2000 });
  await Promise.all([pool.start(), pool.start()]);
});
afterAll(async () => {
  await pool?.stopAll();
  await app?.stop();
  await stopRedis();
});

it(ROWS.workerKill, async ({ task }) => {
  const rand = seededRandom(SEED);
  const { store } = app.shipmate.deps;
  const deploys: Tracked[] = [];
  for (let i = 0; i < DEPLOYS; i++) {
    const name = ENVS[i % ENVS.length] ?? '';
    const res = await app.command('/deploy', `${name} v${i + 1}.0.0`, 'U0ALICE');
    deploys.push({ id: /deploy #(\d+)/.exec(res.json?.text ?? '')?.[1] ?? `?${i}`, env: name });
  }

  const firstFinal = new Map<string, DeployStatus>();
  const hit = new Set<string>();
  const deadline = Date.now() + 150_000;
  const watcher = waitForAllFinal(app, deploys, deadline, firstFinal);
  let done = false;
  void watcher.then(() => (done = true));
  while (!done && Date.now() < deadline) {
    await sleep(300 + rand() * 1200);
    // Wait for a moment when every running deploy is inside a step run by a live worker, with time left.
    for (let tries = 0; tries < 200 && !done; tries++) {
      const running = (await store.active()).filter((r) => r.status === 'running');
      const now = Date.now();
      const live = stepRuns(marks, running).filter((r) => r.end === undefined && alive(r.pid) && pool.ownerOf(r.pid) && r.start + (DURATION[r.label] ?? 0) - now > 250);
      const safe = running.length > 0 && running.every((d) => live.some((r) => r.deployId === d.id));
      const fresh = live.filter((r) => !hit.has(r.deployId));
      if (safe && fresh.length > 0) {
        const target = fresh[Math.floor(rand() * fresh.length)];
        const owner = target && pool.ownerOf(target.pid);
        if (owner) {
          for (const r of live) if (pool.ownerOf(r.pid) === owner) hit.add(r.deployId);
          await pool.kill(owner);
          await pool.start();
          break;
        }
      }
      await sleep(20);
    }
  }
  await watcher;
  // Long enough for anything the killed workers left behind to finish (or show itself).
  await sleep((DURATION.apply ?? 0) + 1000);

  const tally = new Tally('workerKill');
  await waitForMessages(app, deploys, Date.now() + 60_000, { deployLogChannel: 'C0DEPLOYLOG' });
  for (const d of deploys) tally.check(`deploy #${d.id} (${d.env}${hit.has(d.id) ? ', worker killed' : ''})`, await deployProblems(app, marks, d, deploys, firstFinal, { deployLogChannel: 'C0DEPLOYLOG' }));
  const ended = await store.getMany(deploys.map((d) => d.id));
  // A deploy that failed here failed because of a kill, not a step: say why, for whoever reads the run.
  for (const r of ended.filter((x) => x.status === 'failed')) console.log(`deploy #${r.id} failed: ${r.error}`);
  const statuses = ended.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
  const row = tally.record(task, `${DEPLOYS} deploys, ${pool.kills} kills hitting ${hit.size}; ended ${Object.entries(statuses).map(([s, n]) => `${n} ${s}`).join(', ')}; seed ${SEED}`);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 240_000);
