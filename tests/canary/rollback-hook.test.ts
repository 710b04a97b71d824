// The one rollback hook (src/canary/rollback-hook.ts) and how the watch uses it: the abort command and/or the
// rollback job, what is said either way, and a resumed run that finds its breach already decided asking for the
// rollback job again (deduplicated by the requester) without running the abort command a second time.
import { describe, expect, it } from 'vitest';
import { rollBack } from '../../src/canary/rollback-hook.js';
import { runWatch } from '../../src/canary/watch.js';
import type { WatchState } from '../../src/canary/watch-state.js';
import { parseConfig, type CanaryStepConfig } from '../../src/core/config.js';
import { deployVars } from '../../src/core/template.js';
import type { StepOutcome } from '../../src/steps/run-step.js';

const ran: string[][] = [];
const run = async (argv: string[]): Promise<StepOutcome> => {
  ran.push(argv);
  return argv[0] === 'false' ? { ok: false, cancelled: false, output: '', error: 'exit code 1' } : { ok: true, cancelled: false, output: `$ ${argv.join(' ')}\n` };
};

describe('rollBack', () => {
  it('runs the abort command, then queues the rollback job, and says both', async () => {
    ran.length = 0;
    const res = await rollBack({ reason: 'errors', abortArgv: ['true', 'weight=0'], abortTimeoutMs: 1_000, run, requestRollback: async () => ({ ok: true, id: '7', to: 'v1', env: 'prod' }) });
    expect(ran).toEqual([['true', 'weight=0']]);
    expect(res).toMatchObject({ ok: true, job: '7' });
    expect(res.said).toBe('the abort command ran; rollback #7 to `v1` is queued ahead of other deploys; prod stays locked once it succeeds');
  });

  it('says when the rollback job could not be queued, and that someone must roll back by hand', async () => {
    const res = await rollBack({ reason: 'errors', abortTimeoutMs: 1_000, run, requestRollback: async () => ({ ok: false, error: 'prod has no earlier good version to go back to' }) });
    expect(res).toMatchObject({ ok: false, failure: 'the rollback job was not queued' });
    expect(res.said).toMatch(/rollback job was NOT queued \(prod has no earlier good version.*\/rollback/);
    expect(res.job).toBeUndefined();
  });

  it('without an abort command or a rollback job, takes nothing out and says so', async () => {
    expect(await rollBack({ reason: 'x', abortTimeoutMs: 1_000, run })).toMatchObject({ ok: true, said: 'no abort command is configured' });
    expect(await rollBack({ reason: 'x', abortArgv: ['false'], abortTimeoutMs: 1_000, run })).toMatchObject({ ok: false, failure: 'the abort command failed' });
  });
});

describe('a resumed watch whose breach was already decided', () => {
  const config = parseConfig(`
environments:
  - name: prod
    rollback: { steps: [{ name: Put back, run: ['true'] }] }
    steps:
      - name: Canary
        canary:
          prometheus: http://127.0.0.1:9
          onBreach: rollback
          setWeight: { run: ['true', '{{weight}}'] }
          abort: { run: ['true', abort] }
          phases: [{ weight: 5, hold: 1s }, { weight: 100 }]
          metrics: [{ name: error rate, query: 'x', max: 0.01, for: 1s }]
`, 'test.yml', {});
  const step = config.environments[0]?.steps[0] as CanaryStepConfig;
  const stored: WatchState = { kind: 'canary', startedAt: 1, phase: 0, weightSetFor: 0, breachSince: {}, latest: {}, ended: 'rolled-back', rollback: { reason: 'error rate = 5 %', at: 2, phase: 0 } };

  it('asks for the rollback job again (the same one) and never re-runs the abort command or the watch', async () => {
    ran.length = 0;
    const asked: string[] = [];
    const saved: WatchState[] = [];
    const out = await runWatch(step, deployVars({ env: 'prod', version: 'v2', ref: 'v2', requestedBy: 'U0ALICE', id: '3' }), {
      stored,
      request: async () => undefined,
      save: async (s) => void saved.push(s),
      note: async () => undefined,
      changed: async () => undefined,
      run,
      now: () => 10,
      requestRollback: async (reason) => (asked.push(reason), { ok: true, id: '4', to: 'v1', env: 'prod' }),
    });
    expect(out).toMatchObject({ ok: false, cancelled: false });
    expect(out.error).toMatch(/^rolled back at phase 1 \(5 %\): error rate = 5 %$/);
    expect(asked).toEqual(['error rate = 5 %']);
    expect(ran).toEqual([]);
    expect(saved.at(-1)?.rollback?.job).toBe('4');
  });

  it('a resumed run after any other decided end never runs the abort command again nor watches again', async () => {
    const abortOnly = { ...step, canary: { ...step.canary, onBreach: 'abort' as const } } as CanaryStepConfig;
    const ctx = (st: WatchState, notes: string[]) => ({
      stored: st,
      request: async () => undefined,
      save: async () => undefined,
      note: async (t: string) => void notes.push(t),
      changed: async () => undefined,
      run,
      now: () => 10,
    });
    const vars = deployVars({ env: 'prod', version: 'v2', ref: 'v2', requestedBy: 'U0ALICE', id: '3' });
    for (const ended of ['rolled-back', 'aborted', 'failed'] as const) {
      ran.length = 0;
      const notes: string[] = [];
      const out = await runWatch(abortOnly, vars, ctx({ ...stored, ended }, notes));
      expect(out).toMatchObject({ ok: false, cancelled: false });
      expect(out.error).toMatch(/abort command was not run again: check the environment/);
      expect(ran).toEqual([]);
      expect(notes).toHaveLength(1);
    }
    ran.length = 0;
    const done = await runWatch(abortOnly, vars, ctx({ ...stored, ended: 'promoted', rollback: undefined }, []));
    expect(done).toMatchObject({ ok: true });
    expect(ran).toEqual([]);
  });
});
