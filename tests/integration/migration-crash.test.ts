// Fault test for migrations: a worker process killed while a migration's script runs. A script not marked
// retrySafe is never run twice: the migration ends interrupted, visibly, and is not recorded as applied;
// a retrySafe one is resumed at that step by another worker and recorded once it succeeds.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationStore } from '../../src/migrations/migration-store.js';
import { eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { spawnWorker, writeConfig, type WorkerProcess } from '../helpers/worker-process.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-migrate-crash-'));
const scripts = join(marks, 'schemas');
mkdirSync(scripts);
for (const f of ['migrate_20260207_a.sql', 'rollback_20260207_a.sql']) writeFileSync(join(scripts, f), '-- sql\n');
const step = (name: string, seconds: number, retrySafe: boolean) => `{ name: ${name}, retrySafe: ${retrySafe}, run: [sh, -c, 'echo "start ${name} $$" >> ${marks}/{{env}}-{{deployId}}.log; sleep ${seconds}; echo "end ${name} $$" >> ${marks}/{{env}}-{{deployId}}.log'] }`;
const env = (name: string, retrySafe: boolean) => `
  - name: ${name}
    steps: [${step('deploy', 0.1, true)}]
    migrations:
      directory: ${scripts}
      backup: ${step('backup', 0.1, true)}
      run: ${step('script', 5, retrySafe)}
      verify: ${step('verify', 0.1, true)}`;
const YAML = `
environments:${env('fragile', false)}${env('sturdy', true)}
`;

let redisUrl: string;
let app: TestBot;
const workers: WorkerProcess[] = [];
const startWorker = () => {
  const w = spawnWorker({ configFile: writeConfig(YAML), redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url });
  workers.push(w);
  return w;
};
const lines = (name: string, id: string) => {
  const file = join(marks, `${name}-${id}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
};
const idFrom = (text: string) => /migration #(\d+)/.exec(text)?.[1] ?? '';

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  app = await startTestBot({ configYaml: YAML, redisUrl, role: 'app' });
});
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await app?.stop();
  await stopRedis();
});

describe('worker killed mid-migration', () => {
  it('a script that is not retrySafe: interrupted visibly, never run twice, not recorded as applied', async () => {
    const first = startWorker();
    const id = idFrom((await app.command('/migrate', 'fragile migrate_20260207_a', 'U0ALICE')).json.text);
    await eventually(() => lines('fragile', id).some((l) => l.startsWith('start script')), 20_000, 'the script to start');
    first.child.kill('SIGKILL');
    await first.exited;
    startWorker();
    const record = await waitForEnd(app, id, 30_000);
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s) => s.status)).toEqual(['passed', 'interrupted', 'skipped']);
    expect(record.error).toMatch(/stopped during “script”.*not marked retrySafe/);
    expect(lines('fragile', id).filter((l) => l.startsWith('start script'))).toHaveLength(1);
    expect(await new MigrationStore(app.shipmate.deps.redis, app.prefix).get('fragile', 'migrate_20260207_a')).toBeUndefined();
  });

  it('a retrySafe script is resumed by another worker and the migration recorded once', async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    const first = startWorker();
    const id = idFrom((await app.command('/migrate', 'sturdy migrate_20260207_a', 'U0ALICE')).json.text);
    await eventually(() => lines('sturdy', id).some((l) => l.startsWith('start script')), 20_000, 'the script to start');
    first.child.kill('SIGKILL');
    await first.exited;
    startWorker();
    const record = await waitForEnd(app, id, 40_000);
    expect(record.status).toBe('succeeded');
    expect(lines('sturdy', id).filter((l) => l.startsWith('start backup'))).toHaveLength(1);
    expect(lines('sturdy', id).filter((l) => l.startsWith('start script')).length).toBe(2);
    expect((await new MigrationStore(app.shipmate.deps.redis, app.prefix).get('sturdy', 'migrate_20260207_a'))?.state).toBe('applied');
  });
});
