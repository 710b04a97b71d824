// Runs one local command as argv (never through a shell), with a timeout and cancellation.
// The command gets its own process group so a timeout or cancel stops everything it started, and
// killStepGroup() lets a later worker kill what a dead worker's step left behind (its grandchildren).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

// On Linux, util-linux's setpriv makes the kernel kill the command if this worker process dies,
// so a crashed worker never leaves a step running beside the one that resumes the deploy.
const SETPRIV = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** Set when the command could not start at all (e.g. not installed). */
  spawnError?: string;
}

const MAX_OUTPUT = 256 * 1024;
const KILL_GRACE_MS = 3_000;

export interface CommandOptions {
  cwd?: string;
  /** The command's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Cancel: SIGTERM to the process group, SIGKILL after a grace period. */
  signal?: AbortSignal;
  /** Stop at once: SIGKILL to the process group (the worker lost the deploy; nothing may outlive that). */
  kill?: AbortSignal;
  /**
   * Called with the process group id once it exists, BEFORE the command runs: the command starts only
   * if this resolves true (false: it never runs and the result is `cancelled`). Lets the caller record
   * the group in a fenced write first, so no process of a run that lost the deploy ever does work.
   */
  startGate?: (pgid: number) => Promise<boolean>;
  onOutput?: (chunk: string) => void;
}

// Holds the command before exec until one line "go" arrives on stdin; EOF (the gate said no, or this
// worker died) ends it without running anything. argv reaches exec as "$@", never parsed by the shell.
const GATE = ['/bin/sh', '-c', 'IFS= read -r go && [ "$go" = go ] && exec "$@"; exit 125', 'shipmate-step'];

export function runCommand(argv: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const started = Date.now();
  // spawn reports a missing cwd as the program missing ("spawn /usr/bin/setpriv ENOENT"): say what is wrong.
  if (opts.cwd !== undefined && !existsSync(opts.cwd)) {
    return Promise.resolve({ exitCode: null, signal: null, output: '', timedOut: false, cancelled: false, durationMs: 0, spawnError: `its working directory ${opts.cwd} does not exist` });
  }
  const gated = opts.startGate ? [...GATE, ...argv] : argv;
  const [file, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...gated] : gated;
  return new Promise((resolveResult) => {
    let output = '';
    let timedOut = false;
    let cancelled = false;
    let settled = false;
    let gateError: string | undefined;
    const child = spawn(file ?? '', args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      shell: false,
      detached: true,
      stdio: [opts.startGate ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const append = (data: Buffer) => {
      const text = data.toString();
      output += text;
      if (output.length > MAX_OUTPUT) output = `…(earlier output cut)\n${output.slice(-MAX_OUTPUT)}`;
      opts.onOutput?.(text);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);

    // Until 'close' (every holder of the output pipes gone) the group is ours to kill, even after the
    // command itself has exited: what it left in the background is still in the group.
    const killNow = () => {
      if (child.pid === undefined || settled) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const stop = () => {
      if (child.pid === undefined || settled) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      setTimeout(() => {
        if (!settled && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }, KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const onKill = () => {
      cancelled = true;
      killNow();
    };
    if (opts.kill?.aborted) onKill();
    opts.kill?.addEventListener('abort', onKill, { once: true });

    if (opts.startGate && child.pid !== undefined) {
      child.stdin?.on('error', () => undefined); // the gate shell may be gone already (killed)
      opts.startGate(child.pid).then(
        (go) => {
          if (!go) cancelled = true;
          child.stdin?.end(go && !cancelled ? 'go\n' : '');
        },
        (err: Error) => {
          gateError = err.message;
          child.stdin?.end();
        },
      );
    }

    const finish = (result: Partial<CommandResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      opts.kill?.removeEventListener('abort', onKill);
      resolveResult({ exitCode: null, signal: null, output, timedOut, cancelled, durationMs: Date.now() - started, ...(gateError ? { spawnError: gateError } : {}), ...result });
    };
    child.once('error', (err) => finish({ spawnError: err.message, exitCode: null }));
    child.once('close', (code, signal) => finish({ exitCode: code, signal }));
  });
}

/**
 * Kills what is left of a step's process group (SIGKILL), e.g. the grandchildren of a step whose worker
 * died (--pdeathsig reaches only the direct child), and waits until none of it is alive (bounded).
 * On Linux the group is killed only while one of its processes still carries `marker` (a NAME=value of
 * the step's environment), so a process group id the system has reused since is left alone.
 * Returns true when something was killed.
 */
export async function killStepGroup(pgid: number, marker: string, timeoutMs = 5_000): Promise<boolean> {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  if (process.platform === 'linux') {
    if (!groupMembers(pgid).some((pid) => environOf(pid).includes(marker))) return false;
  }
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    return false; // ESRCH: the group is gone already
  }
  if (process.platform !== 'linux') return true;
  const deadline = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  return true;
}

/** Live (not zombie) processes in a process group, read from /proc. */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // after "pid (comm) ": state ppid pgrp …; comm may contain spaces and parentheses
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
