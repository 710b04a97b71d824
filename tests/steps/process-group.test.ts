// A step's processes as one group: it starts only once the caller has recorded the group, stops at
// once when the run loses its deploy, and what a dead worker's step left behind can be killed later.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killStepGroup, runCommand } from '../../src/steps/run-command.js';

const dir = mkdtempSync(join(tmpdir(), 'shipmate-pgroup-'));

/** Running (not exited, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('a step command', () => {
  it('starts only once its start gate says so, with the process group already there', async () => {
    const file = join(dir, 'gated');
    let seen: { pgid: number; alive: boolean; ran: boolean } | undefined;
    const res = await runCommand(['sh', '-c', `echo ran > ${file}`], {
      timeoutMs: 5_000,
      startGate: async (pgid) => {
        await new Promise((ok) => setTimeout(ok, 200));
        seen = { pgid, alive: alive(pgid), ran: existsSync(file) };
        return true;
      },
    });
    expect(seen).toMatchObject({ alive: true, ran: false });
    expect(res.exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('ran\n');
  });

  it('never runs when its start gate says no (the run lost its deploy meanwhile)', async () => {
    const file = join(dir, 'refused');
    const res = await runCommand(['sh', '-c', `echo ran > ${file}`], { timeoutMs: 5_000, startGate: async () => false });
    expect(res.cancelled).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('is killed at once, whole group, when the run loses its deploy — even if it ignores SIGTERM', async () => {
    const lost = new AbortController();
    setTimeout(() => lost.abort(), 200);
    const res = await runCommand(['sh', '-c', 'trap "" TERM; sleep 30 & wait'], { timeoutMs: 60_000, kill: lost.signal });
    expect(res.cancelled).toBe(true);
    expect(res.durationMs).toBeLessThan(1_500);
  });

  it('at its timeout also kills what it left running in the background after it exited', async () => {
    const started = Date.now();
    const res = await runCommand(['sh', '-c', 'sleep 30 & echo left a sleeper'], { timeoutMs: 300 });
    expect(res.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('killStepGroup', () => {
  /** A step whose worker died: the group leader is gone (as with --pdeathsig), its background child lives on. */
  async function orphanedGroup(env: NodeJS.ProcessEnv) {
    const pidFile = join(dir, `orphan-${Math.random()}`);
    const leader = spawn('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH, ...env } });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((ok) => setTimeout(ok, 20));
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    leader.kill('SIGKILL');
    await new Promise((ok) => leader.once('exit', ok));
    expect(alive(orphan)).toBe(true);
    return { pgid: leader.pid!, orphan };
  }

  it('kills every process left in the group and returns once they are gone', async () => {
    const { pgid, orphan } = await orphanedGroup({ SHIPMATE_DEPLOY_ID: '41' });
    expect(await killStepGroup(pgid, 'SHIPMATE_DEPLOY_ID=41')).toBe(true);
    expect(alive(orphan)).toBe(false);
  });

  it('leaves a group alone whose processes are not that step’s (a reused process group id)', async () => {
    const { pgid, orphan } = await orphanedGroup({ SHIPMATE_DEPLOY_ID: '42' });
    try {
      expect(await killStepGroup(pgid, 'SHIPMATE_DEPLOY_ID=4')).toBe(false);
      expect(alive(orphan)).toBe(true);
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });

  it('is a no-op for a group that is gone', async () => {
    const { pgid } = await orphanedGroup({ SHIPMATE_DEPLOY_ID: '43' });
    await killStepGroup(pgid, 'SHIPMATE_DEPLOY_ID=43');
    expect(await killStepGroup(pgid, 'SHIPMATE_DEPLOY_ID=43')).toBe(false);
  });
});
