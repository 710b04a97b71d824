// A worker that dies after a rollback's last step but before the rollback is recorded as done: the run that
// resumes it (a real worker process) finds every step passed, runs none again, and leaves the environment locked
// with exactly one lock notice — whether the dead run had written the lock (and posted its notice) or not.
// The crash is simulated through the store: the record is left as a run that died there leaves it (running, every
// step passed, fenced by a run token nobody holds), with its job waiting, as BullMQ's stall check hands it on.
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { allText, deployIdFrom, eventually, waitForEnd } from '../helpers/harness.js';
import { clickInReply } from '../helpers/interactions.js';
import { idFrom, markLines, markerStep, marksDir, workerFixture } from '../helpers/worker-process.js';

const marks = marksDir('rollback-lock-crash');
const env = (name: string) => `
  - name: ${name}
    steps: [${markerStep(marks, 'apply', 0, true)}]
    rollback:
      steps: [${markerStep(marks, 'undo', 0, true)}]`;
const YAML = `
channels: { deployLog: C0DEPLOYLOG }
environments:${env('before')}${env('after')}
`;
const fx = workerFixture(YAML);

async function deployed(name: string, version: string): Promise<void> {
  const id = idFrom((await fx.app.command('/deploy', `${name} ${version}`, 'U0ALICE')).json.text);
  expect((await waitForEnd(fx.app, id, 20_000)).status).toBe('succeeded');
}

/** Asks for and confirms a rollback with no worker running: its job waits in the environment's queue. */
async function rollbackWaiting(name: string, reason: string): Promise<string> {
  const ask = await fx.app.command('/rollback', `${name} "${reason}"`, 'U0BOB');
  const before = fx.app.slack.ephemerals('U0BOB').length;
  await clickInReply(fx.app, ask.json, ACTIONS.rollbackConfirm, 'U0BOB');
  const answer = await eventually(() => fx.app.slack.ephemerals('U0BOB').slice(before).find((m) => (m.text ?? '').includes('Rolling ')), 5_000, 'the rollback answer');
  return deployIdFrom(answer.text ?? '');
}

/** The record as a run that died right after its last step's write leaves it. */
async function diedAfterLastStep(id: string): Promise<void> {
  const at = fx.app.shipmate.deps.now();
  await fx.app.shipmate.deps.store.update(id, (r) => {
    r.status = 'running';
    r.startedAt = at;
    r.runs = 1;
    r.runToken = 'a-run-that-died';
    for (const s of r.steps) Object.assign(s, { status: 'passed', startedAt: at, finishedAt: at, durationMs: 0, exitCode: 0 });
  });
}

const lockNotices = (name: string) => fx.app.slack.messages('C0DEPLOYLOG').filter((m) => allText(m).includes(`*${name}* is locked`));
const lockAudits = async (name: string) => (await readAudit(fx.app.shipmate.deps.redis, fx.app.prefix, 1000)).filter((e) => e.action === 'env.locked' && e.env === name);

describe('worker dies between a rollback\'s last step and its end', () => {
  it('before the lock was written: the resumed run locks once and runs no step again', async () => {
    fx.startWorker();
    await deployed('before', 'v1');
    await deployed('before', 'v2');
    await fx.killWorkers();
    const rb = await rollbackWaiting('before', 'bad v2');
    await diedAfterLastStep(rb);
    fx.startWorker();
    const r = await waitForEnd(fx.app, rb, 30_000);
    expect(r).toMatchObject({ status: 'succeeded', kind: 'rollback', version: 'v1' });
    expect(markLines(marks, `before-${rb}.log`)).toEqual([]); // the undo step passed before the crash: not run again
    expect(await fx.app.shipmate.deps.deploys.locks.get('before')).toMatchObject({ by: 'U0BOB', reason: 'bad v2', deployId: rb });
    await eventually(() => lockNotices('before').length === 1, 10_000, 'the lock notice');
    await new Promise((ok) => setTimeout(ok, 1_000));
    expect(lockNotices('before')).toHaveLength(1);
    expect(await lockAudits('before')).toHaveLength(1);
  }, 60_000);

  it('after the lock and its notice: the resumed run asserts the same lock, and no second notice is posted', async () => {
    await fx.killWorkers();
    fx.startWorker();
    await deployed('after', 'v1');
    await deployed('after', 'v2');
    await fx.killWorkers();
    const rb = await rollbackWaiting('after', 'bad v2 again');
    await diedAfterLastStep(rb);
    // what the dead run did just before it died: the lock and its notice
    const deps = fx.app.shipmate.deps;
    const envConfig = deps.config.environments.find((e) => e.name === 'after')!;
    const first = await deps.deploys.locks.lockAfterRollback(envConfig, (await deps.store.get(rb))!);
    fx.startWorker();
    const r = await waitForEnd(fx.app, rb, 30_000);
    expect(r.status).toBe('succeeded');
    expect(await deps.deploys.locks.get('after')).toEqual(first); // the same lock: same reason, same "since"
    await eventually(() => lockNotices('after').length === 1, 10_000, 'the lock notice');
    await new Promise((ok) => setTimeout(ok, 1_500));
    expect(lockNotices('after')).toHaveLength(1);
    expect(await lockAudits('after')).toHaveLength(1);
  }, 60_000);

  it('a person who unlocked meanwhile is not overruled by the resumed run', async () => {
    const deps = fx.app.shipmate.deps;
    const envConfig = deps.config.environments.find((e) => e.name === 'after')!;
    await deps.deploys.locks.unlock(envConfig, 'U0ALICE');
    const rb = (await deps.store.recentLog(5, 'after')).find((e) => e.kind === 'rollback')!.deployId;
    await deps.deploys.locks.lockAfterRollback(envConfig, (await deps.store.get(rb))!);
    expect(await deps.deploys.locks.get('after')).toBeUndefined();
  });
});
