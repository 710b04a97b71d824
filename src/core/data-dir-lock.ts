// One embedded redis-server per data directory: a lock file holding the owner's pid (and its server's pid),
// checked for liveness, so a second Shipmate on the same SHIPMATE_DATA_DIR is refused instead of starting a
// second server that appends to the same AOF files.
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'shipmate.lock';
/** How long to wait for the server of a Shipmate that died to finish stopping (the kernel sent it SIGTERM). */
const ORPHAN_WAIT_MS = 5_000;

interface Holder {
  pid: number;
  redisPid?: number;
}

export interface DataDirLock {
  file: string;
  /** Records the server's pid, so a server that outlives its Shipmate still holds the directory. */
  setServerPid(pid: number | undefined): void;
  release(): void;
}

export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirInUseError';
  }
}

/** Whether `pid` is running (a zombie, exited but not yet reaped, is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat'); // no /proc (not Linux): trust kill(0)
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, redisPid: parsed.redisPid } : undefined;
  } catch {
    return undefined;
  }
}

export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const file = join(dir, LOCK_FILE);
  const write = (holder: Holder, flag: 'wx' | 'w') => writeFileSync(file, JSON.stringify(holder), { flag });
  const deadline = Date.now() + ORPHAN_WAIT_MS;
  for (;;) {
    try {
      write({ pid: process.pid }, 'wx');
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (holder && holder.pid !== process.pid && processAlive(holder.pid)) {
      throw new DataDirInUseError(
        `another Shipmate (pid ${holder.pid}) is running its redis-server on ${dir}. Stop it first, or give this one its own SHIPMATE_DATA_DIR (or set REDIS_URL). If pid ${holder.pid} is not Shipmate, delete ${file}.`,
      );
    }
    const serverAlive = holder?.redisPid !== undefined && processAlive(holder.redisPid);
    if (serverAlive || !holder) {
      // A server whose Shipmate died is stopping; a holder we cannot read is being written right now.
      if (Date.now() < deadline) {
        await new Promise((ok) => setTimeout(ok, 100));
        continue;
      }
      throw new DataDirInUseError(
        holder ? `a redis-server (pid ${holder.redisPid}) left by an earlier Shipmate still uses ${dir}; stop it (kill ${holder.redisPid}) and start again` : `${file} cannot be read; delete it if no Shipmate is running`,
      );
    }
    // Stale: its Shipmate and server are gone. (Two instances racing over one stale file is not covered.)
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return {
    file,
    setServerPid(redisPid) {
      write({ pid: process.pid, redisPid }, 'w');
    },
    release() {
      if (readHolder(file)?.pid !== process.pid) return;
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}
