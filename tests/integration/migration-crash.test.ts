// Fault test for migrations: a worker process killed while a migration's script runs. A script not marked
// retrySafe is never run twice: the migration ends interrupted, visibly, and is not recorded as applied;
// a retrySafe one is resumed at that step by another worker and recorded once it succeeds. Scaled out: a migrate
// and a deploy of one environment asked for together, with two worker processes, run one after the other.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MigrationStore } from '../../src/migrations/migration-store.js';
import { eventually, waitForEnd } from '../helpers/harness.js';
import { idFrom, markLines, markerStep, marksDir, readMarks, workerFixture } from '../helpers/worker-process.js';

const marks = marksDir('migrate-crash');
const scripts = join(marks, 'schemas');
mkdirSync(scripts);
for (const f of ['migrate_20260207_a.sql', 'rollback_20260207_a.sql', 'migrate_20260208_b.sql', 'rollback_20260208_b.sql']) writeFileSync(join(scripts, f), '-- sql\n');
const step = (name: string, seconds: number, retrySafe: boolean) => markerStep(marks, name, seconds, retrySafe);
const env = (name: string, retrySafe: boolean) => `
  - name: ${name}
    steps: [${step('deploy', 0.1, true)}]
    migrations:
      directory: ${scripts}
      backup: ${step('backup', 0.1, true)}
      run: ${step('script', 5, retrySafe)}
      verify: ${step('verify', 0.1, true)}`;
// One environment whose deploy and migration steps all write to one marks file, each line naming its change.
const shared = (name: string) => markerStep(marks, name, 0.8, true, { file: 'shared.log', who: '{{deployId}}' });
const YAML = `
environments:${env('fragile', false)}${env('sturdy', true)}
  - name: shared
    steps: [${shared('deploy-a')}, ${shared('deploy-b')}]
    migrations:
      directory: ${scripts}
      backup: ${shared('backup')}
      run: ${shared('script')}
      verify: ${shared('verify')}
`;

const fx = workerFixture(YAML);
const lines = (name: string, id: string) => markLines(marks, `${name}-${id}.log`);

describe('worker killed mid-migration', () => {
  it('a script that is not retrySafe: interrupted visibly, never run twice, not recorded as applied', async () => {
    const first = fx.startWorker();
    const id = idFrom((await fx.app.command('/migrate', 'fragile migrate_20260207_a', 'U0ALICE')).json.text, 'migration');
    await eventually(() => lines('fragile', id).some((l) => l.startsWith('start script')), 30_000, 'the script to start');
    first.child.kill('SIGKILL');
    await first.exited;
    fx.startWorker();
    const record = await waitForEnd(fx.app, id, 30_000);
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s) => s.status)).toEqual(['passed', 'interrupted', 'skipped']);
    expect(record.error).toMatch(/stopped during “script”.*not marked retrySafe/);
    expect(lines('fragile', id).filter((l) => l.startsWith('start script'))).toHaveLength(1);
    expect(await new MigrationStore(fx.app.shipmate.deps.redis, fx.app.prefix).get('fragile', 'migrate_20260207_a')).toBeUndefined();
  }, 60_000);

  it('a retrySafe script is resumed by another worker and the migration recorded once', async () => {
    await fx.killWorkers();
    const first = fx.startWorker();
    const id = idFrom((await fx.app.command('/migrate', 'sturdy migrate_20260207_a', 'U0ALICE')).json.text, 'migration');
    await eventually(() => lines('sturdy', id).some((l) => l.startsWith('start script')), 30_000, 'the script to start');
    first.child.kill('SIGKILL');
    await first.exited;
    fx.startWorker();
    const record = await waitForEnd(fx.app, id, 40_000);
    expect(record.status).toBe('succeeded');
    expect(lines('sturdy', id).filter((l) => l.startsWith('start backup'))).toHaveLength(1);
    expect(lines('sturdy', id).filter((l) => l.startsWith('start script')).length).toBe(2);
    expect((await new MigrationStore(fx.app.shipmate.deps.redis, fx.app.prefix).get('sturdy', 'migrate_20260207_a'))?.state).toBe('applied');
  }, 60_000);
});

describe('scaled out', () => {
  it('a migrate and a deploy requested together on one environment never run at once across two worker processes', async () => {
    await fx.killWorkers();
    fx.startWorker();
    fx.startWorker();
    await new Promise((ok) => setTimeout(ok, 1500));
    const [migrate, deploy] = await Promise.all([fx.app.command('/migrate', 'shared migrate_20260208_b', 'U0ALICE'), fx.app.command('/deploy', 'shared v1', 'U0BOB')]);
    const m = idFrom(migrate.json.text, 'migration');
    const d = idFrom(deploy.json.text);
    expect([m, d].every(Boolean)).toBe(true);
    for (const id of [m, d]) expect((await waitForEnd(fx.app, id, 40_000)).status).toBe('succeeded');
    const all = readMarks(marks, 'shared.log');
    // each change's span: from its first step's start to its last step's end, by the timestamps the steps wrote
    const span = (id: string) => {
      const own = all.filter((x) => x.who === id);
      expect(own.map((x) => `${x.kind} ${x.step}`)).toEqual(id === m ? ['start backup', 'end backup', 'start script', 'end script', 'start verify', 'end verify'] : ['start deploy-a', 'end deploy-a', 'start deploy-b', 'end deploy-b']);
      return { from: Math.min(...own.map((x) => x.at)), to: Math.max(...own.map((x) => x.at)) };
    };
    const [first, second] = [span(m), span(d)].sort((a, b) => a.from - b.from);
    expect(second!.from).toBeGreaterThanOrEqual(first!.to);
    // and in the file itself no line of one change falls between the other's first and last line
    const order = all.map((x) => x.who);
    expect(order.join(' ')).toMatch(new RegExp(`^(${m} )*${m} (${d} )*${d}$|^(${d} )*${d} (${m} )*${m}$`));
  }, 60_000);
});
