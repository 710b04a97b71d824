// The data directory's lock: refused while another live process holds it, taken over when its holder and
// the holder's redis-server are gone, and waited for while that server is still stopping.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir, processAlive } from '../../src/core/data-dir-lock.js';

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const pid = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  return Number(pid);
}

function holdWith(holder: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipmate-lock-'));
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder));
  return dir;
}

describe('lockDataDir', () => {
  it('is refused while another live process holds the directory', async () => {
    const other = spawn('sleep', ['30']);
    try {
      const dir = holdWith({ pid: other.pid });
      await expect(lockDataDir(dir)).rejects.toThrow(DataDirInUseError);
      await expect(lockDataDir(dir)).rejects.toThrow(`another Shipmate (pid ${other.pid}) is running its redis-server on ${dir}`);
    } finally {
      other.kill();
    }
  });

  it('takes over a lock whose holder and server are gone, and releases only its own', async () => {
    const dir = holdWith({ pid: deadPid(), redisPid: deadPid() });
    const lock = await lockDataDir(dir);
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toEqual({ pid: process.pid });
    lock.setServerPid(4242);
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toEqual({ pid: process.pid, redisPid: 4242 });
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it('waits for the server of a Shipmate that died to finish stopping', async () => {
    const server = spawn('sleep', ['0.6']);
    const dir = holdWith({ pid: deadPid(), redisPid: server.pid });
    const started = Date.now();
    const lock = await lockDataDir(dir);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(processAlive(server.pid ?? 0)).toBe(false);
    lock.release();
  });

  it('a zombie (exited, not reaped by its parent) is not alive', async () => {
    // `sleep 5` replaces the shell and never reaps the shell's background child.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((ok) => parent.stdout.once('data', (d: Buffer) => ok(d.toString()))));
      await new Promise((ok) => setTimeout(ok, 400));
      expect(() => process.kill(zombie, 0)).not.toThrow();
      expect(processAlive(zombie)).toBe(false);
      expect(processAlive(parent.pid ?? 0)).toBe(true);
    } finally {
      parent.kill();
    }
  });
});
