// Worker processes: a crash mid-deploy never loses the deploy nor runs it twice at once; a graceful
// shutdown hands the deploy back at a step boundary; two workers never run one environment twice.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL, allText, eventually, waitForEnd } from '../helpers/harness.js';
import { idFrom, markLines, markerStep, marksDir, overlapping, readTicks, spans, workerFixture, writeTicker } from '../helpers/worker-process.js';

const marks = marksDir('marks');
const ticker = writeTicker(marks);
// Each step appends "start <step> <pid> <ms>" / "end <step> <pid> <ms>" so overlapping runs would show.
const step = (name: string, seconds: number, retrySafe: boolean) => markerStep(marks, name, seconds, retrySafe, { indent: 6 });

const YAML = `
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: fragile
    steps:${step('prepare', 0.1, true)}${step('apply', 6, false)}${step('verify', 0.1, true)}
  - name: sturdy
    steps:${step('prepare', 0.1, true)}${step('apply', 6, true)}${step('verify', 0.1, true)}
  - name: quick
    steps:${step('apply', 0.1, true)}
  - name: orphans
    steps:
      - name: apply
        retrySafe: true
        run: [sh, ${ticker}, '${marks}/{{env}}-{{deployId}}.ticks', '80', '10']
`;

const fx = workerFixture(YAML);
const startWorker = () => fx.startWorker();
const lines = (env: string, id: string) => markLines(marks, `${env}-${id}.log`);

describe('worker killed mid-deploy', () => {
  it('ends a deploy whose running step is not retry-safe as interrupted, visibly, without re-running it', async () => {
    const first = startWorker();
    const id = idFrom((await fx.app.command('/deploy', 'fragile v1', 'U0ALICE')).json.text);
    await eventually(() => lines('fragile', id).includes(`start apply ${''}`.trim()) || lines('fragile', id).some((l) => l.startsWith('start apply')), 20_000, 'apply to start');
    first.child.kill('SIGKILL');
    await first.exited;
    startWorker();
    const record = await waitForEnd(fx.app, id);
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s) => s.status)).toEqual(['passed', 'interrupted', 'skipped']);
    expect(record.error).toMatch(/stopped during “apply”.*not marked retrySafe/);
    // apply started once and never again; the killed worker's command died with it (no "end apply")
    await new Promise((ok) => setTimeout(ok, 7_000));
    expect(lines('fragile', id).filter((l) => l.startsWith('start apply'))).toHaveLength(1);
    expect(lines('fragile', id).some((l) => l.startsWith('end apply'))).toBe(false);
    expect(lines('fragile', id).some((l) => l.includes('verify'))).toBe(false);
    const msg = await eventually(() => {
      const m = fx.app.statusMessage(id);
      return m && allText(m).includes('Interrupted') ? m : undefined;
    });
    expect(allText(msg)).toContain('not marked retrySafe');
    const log = await eventually(() => fx.app.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes(`Deploy #${id}`)));
    expect(allText(log)).toContain('Interrupted');
  }, 60_000);

  it('resumes a deploy at a retry-safe step, never running two copies of it at once', async () => {
    await fx.killWorkers();
    const first = startWorker();
    const id = idFrom((await fx.app.command('/deploy', 'sturdy v2', 'U0ALICE')).json.text);
    await eventually(() => lines('sturdy', id).some((l) => l.startsWith('start apply')), 20_000, 'apply to start');
    first.child.kill('SIGKILL');
    await first.exited;
    startWorker();
    const record = await waitForEnd(fx.app, id, 30_000);
    expect(record.status).toBe('succeeded');
    expect(record.notes.join(' ')).toContain('resumed at “apply” after a worker crash');
    const seq = lines('sturdy', id).map((l) => l.split(' ').slice(0, 2).join(' '));
    // the first apply was killed before it ended; the second ran from start to end, then verify
    expect(seq).toEqual(['start prepare', 'end prepare', 'start apply', 'start apply', 'end apply', 'start verify', 'end verify']);
    const thread = fx.app.slack.thread(CHANNEL, fx.app.statusMessage(id)!.ts);
    expect(thread.length).toBeGreaterThan(1);
  }, 60_000);
});

describe('worker killed while its step works in a grandchild', () => {
  it('kills the dead run\'s leftover processes before the resumed run starts', async () => {
    await fx.killWorkers();
    // two workers, so the survivor takes the deploy over as soon as the killed one's lock expires
    const pair = [startWorker(), startWorker()];
    const id = idFrom((await fx.app.command('/deploy', 'orphans v7', 'U0ALICE')).json.text);
    const file = join(marks, `orphans-${id}.ticks`);
    await eventually(() => readTicks(file).length >= 3, 20_000, 'apply to work');
    const holder = await eventually(() => pair.find((w) => w.output().includes(`"deployId":"${id}"`)), 5_000, 'the worker running it');
    holder.child.kill('SIGKILL'); // --pdeathsig reaches the step's shell, not the grandchild doing the work
    await holder.exited;
    const record = await waitForEnd(fx.app, id, 30_000);
    expect(record.status).toBe('succeeded');
    expect(record.notes.join(' ')).toContain('resumed at “apply”');
    const [orphan, resumed, ...more] = spans(readTicks(file));
    expect(more).toEqual([]);
    expect(resumed?.ended).toBe(true);
    // the orphan had 80 ticks (8 s) of work left to do: it was killed, before the resumed run began
    expect(orphan?.ended).toBe(false);
    expect(orphan!.to).toBeLessThan(resumed!.from);
    expect(overlapping(readTicks(file))).toEqual([]);
  }, 40_000);
});

describe('graceful shutdown', () => {
  it('finishes the current step, hands the deploy back, and another worker resumes at the next step', async () => {
    await fx.killWorkers();
    const first = startWorker();
    const id = idFrom((await fx.app.command('/deploy', 'fragile v3', 'U0BOB')).json.text);
    await eventually(() => lines('fragile', id).some((l) => l.startsWith('start apply')), 20_000, 'apply to start');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // the step finished before the process left
    expect(lines('fragile', id).some((l) => l.startsWith('end apply'))).toBe(true);
    const handed = await fx.app.shipmate.deps.store.get(id);
    expect(handed?.handedBack).toBe(true);
    startWorker();
    const record = await waitForEnd(fx.app, id, 20_000);
    expect(record.status).toBe('succeeded');
    expect(lines('fragile', id).filter((l) => l.startsWith('start apply'))).toHaveLength(1);
    expect(record.notes.join(' ')).toContain('handed back before “verify”');
  }, 60_000);
});

describe('cancel across processes', () => {
  it('a Stop click handled by the app process terminates the command running in a worker process', async () => {
    await fx.killWorkers();
    startWorker();
    const id = idFrom((await fx.app.command('/deploy', 'fragile v6', 'U0ALICE')).json.text);
    await eventually(() => lines('fragile', id).some((l) => l.startsWith('start apply')), 20_000, 'apply to start');
    const msg = await eventually(() => fx.app.statusMessage(id));
    const clicked = Date.now();
    await fx.app.click(msg, 'shipmate_cancel_deploy', 'U0ALICE');
    const record = await waitForEnd(fx.app, id, 10_000);
    expect(record.status).toBe('cancelled');
    expect(Date.now() - clicked).toBeLessThan(5_000); // well before the 6 s step would have ended
    expect(record.steps.map((s) => s.status)).toEqual(['passed', 'cancelled', 'skipped']);
    expect(lines('fragile', id).some((l) => l.startsWith('end apply'))).toBe(false);
  }, 40_000);
});

describe('worker killed while it delivers a message', () => {
  it('the next worker takes the channel over within seconds: the message is found, not posted twice, and brought up to date', async () => {
    await fx.killWorkers();
    const first = startWorker();
    // Slack takes the next post at once but answers only after 30 s: its delivery job is in the middle of the call.
    const before = fx.app.slack.calls.length;
    fx.app.slack.failNext('chat.postMessage', { delayMs: 30_000 }, 1);
    const id = idFrom((await fx.app.command('/deploy', 'quick v1', 'U0ALICE')).json.text);
    const slow = await eventually(() => fx.app.slack.calls.slice(before).find((c) => c.method === 'chat.postMessage'), 15_000, 'a post to reach Slack');
    first.child.kill('SIGKILL');
    await first.exited;
    const killed = Date.now();
    startWorker();
    const record = await waitForEnd(fx.app, id, 20_000);
    expect(record.status).toBe('succeeded');
    await eventually(() => { const m = fx.app.statusMessage(id); return m && allText(m).includes('Succeeded'); }, 15_000, 'the status message to show the end');
    // BullMQ's defaults would leave the channel to the dead worker's job for 30–60 s
    expect(Date.now() - killed).toBeLessThan(12_000);
    // the post whose answer never came was found again, not made twice; nor was any other
    expect(slow.args.channel).toBeTruthy();
    const keys = fx.app.slack.messages()
      .map((m) => (m as { metadata?: { event_payload?: { key?: string } } }).metadata?.event_payload?.key)
      .filter((k): k is string => typeof k === 'string');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBe(new Set(keys).size);
  }, 60_000);
});

describe('scaled out', () => {
  it('two worker processes never run two deploys of one environment at once', async () => {
    await fx.killWorkers();
    startWorker();
    startWorker();
    await new Promise((ok) => setTimeout(ok, 1500));
    const a = idFrom((await fx.app.command('/deploy', 'sturdy v4', 'U0ALICE')).json.text);
    const b = idFrom((await fx.app.command('/deploy', 'sturdy v5', 'U0BOB')).json.text);
    const done = await eventually(async () => {
      const rs = await fx.app.shipmate.deps.store.getMany([a, b]);
      return rs.every((r) => r.status === 'succeeded') ? rs : undefined;
    }, 40_000, 'both deploys');
    const [ra, rb] = done;
    expect(rb!.startedAt!).toBeGreaterThanOrEqual(ra!.finishedAt!);
  }, 60_000);
});
