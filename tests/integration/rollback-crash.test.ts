// A worker process killed in the middle of a rollback: the rollback resumes on another worker at its retry-safe step
// (or ends visibly as interrupted when the step is not retry-safe), and the deploy waiting behind it never runs
// beside it. Real worker processes (src/main.ts --role worker), real Redis, the Bolt app in this process.
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { allText, deployIdFrom, eventually, waitForEnd } from '../helpers/harness.js';
import { clickInReply } from '../helpers/interactions.js';
import { markLines, markerStep, marksDir, workerFixture } from '../helpers/worker-process.js';

const marks = marksDir('rollback-crash');
const step = (name: string, seconds: number, retrySafe: boolean, indent = 10) => markerStep(marks, name, seconds, retrySafe, { indent, file: '{{env}}.log', who: '{{deployId}}' });

const YAML = `
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: sturdy
    steps:${step('apply', 0, false, 6)}
    rollback:
      steps:${step('undo', 4, true)}${step('verify', 0.1, true)}
  - name: fragile
    steps:${step('apply', 0, false, 6)}
    rollback:
      steps:${step('undo', 4, false)}${step('verify', 0.1, true)}
`;

const fx = workerFixture(YAML);
const lines = (env: string) => markLines(marks, `${env}.log`);

async function deployed(env: string, version: string): Promise<void> {
  const id = deployIdFrom((await fx.app.command('/deploy', `${env} ${version}`, 'U0ALICE')).json.text ?? '');
  expect((await waitForEnd(fx.app, id, 20_000)).status).toBe('succeeded');
}

async function confirmRollback(env: string, reason: string): Promise<string> {
  const ask = await fx.app.command('/rollback', `${env} "${reason}"`, 'U0BOB');
  const before = fx.app.slack.ephemerals('U0BOB').length;
  await clickInReply(fx.app, ask.json, ACTIONS.rollbackConfirm, 'U0BOB');
  const answer = await eventually(() => fx.app.slack.ephemerals('U0BOB').slice(before).find((m) => (m.text ?? '').includes('Rolling ')), 5_000, 'the rollback answer');
  return deployIdFrom(answer.text ?? '');
}

describe('worker killed mid-rollback', () => {
  it('resumes the rollback at its retry-safe step on another worker; the deploy waiting behind never runs beside it', async () => {
    const first = fx.startWorker();
    await deployed('sturdy', 'v1');
    await deployed('sturdy', 'v2');
    const rb = await confirmRollback('sturdy', 'bad v2');
    await eventually(() => lines('sturdy').includes(`start undo ${rb}`), 20_000, 'undo to start');
    // a deploy asked for while the rollback runs waits behind it
    const waiting = deployIdFrom((await fx.app.command('/deploy', 'sturdy v3', 'U0ALICE')).json.text ?? '');
    first.child.kill('SIGKILL');
    await first.exited;
    fx.startWorker();
    const r = await waitForEnd(fx.app, rb, 30_000);
    expect(r).toMatchObject({ status: 'succeeded', kind: 'rollback', version: 'v1', rollbackFrom: 'v2' });
    expect(r.notes.join(' ')).toContain('resumed at “undo” after a worker crash');
    // the killed undo never ended; the resumed one ran start to end, then verify; the waiting deploy never started
    expect(lines('sturdy').filter((l) => l.endsWith(` ${rb}`))).toEqual([`start undo ${rb}`, `start undo ${rb}`, `end undo ${rb}`, `start verify ${rb}`, `end verify ${rb}`]);
    const w = await waitForEnd(fx.app, waiting, 20_000);
    expect(w.status).toBe('cancelled');
    expect(w.error).toContain('sturdy is locked');
    expect(lines('sturdy').some((l) => l.endsWith(` ${waiting}`))).toBe(false);
    expect(await fx.app.shipmate.deps.deploys.locks.get('sturdy')).toMatchObject({ by: 'U0BOB', reason: 'bad v2', deployId: rb });
  }, 90_000);

  it('ends a rollback whose running step is not retry-safe as interrupted, visibly, and does not lock', async () => {
    await fx.killWorkers();
    const first = fx.startWorker();
    await deployed('fragile', 'v1');
    await deployed('fragile', 'v2');
    const rb = await confirmRollback('fragile', 'bad v2');
    await eventually(() => lines('fragile').includes(`start undo ${rb}`), 20_000, 'undo to start');
    first.child.kill('SIGKILL');
    await first.exited;
    fx.startWorker();
    const r = await waitForEnd(fx.app, rb, 30_000);
    expect(r.status).toBe('interrupted');
    expect(r.steps.map((s) => s.status)).toEqual(['interrupted', 'skipped']);
    expect(lines('fragile').filter((l) => l.endsWith(` ${rb}`))).toEqual([`start undo ${rb}`]);
    const log = await eventually(() => fx.app.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes(`Rollback #${rb}`)), 10_000, 'the log entry');
    expect(allText(log)).toContain('Rollback interrupted');
    expect(allText(log)).toContain('rollback from v2 to v1 · why: bad v2');
    expect(await fx.app.shipmate.deps.deploys.locks.get('fragile')).toBeUndefined();
  }, 90_000);
});
