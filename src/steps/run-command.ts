// Runs one local command as argv (never through a shell), with a timeout and cancellation.
// The command gets its own process group so a timeout or cancel stops everything it started.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

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

export function runCommand(
  argv: readonly string[],
  opts: { cwd?: string; /** The command's whole environment (default: this process's). */ env?: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal; onOutput?: (chunk: string) => void },
): Promise<CommandResult> {
  const started = Date.now();
  const [file, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
  return new Promise((resolveResult) => {
    let output = '';
    let timedOut = false;
    let cancelled = false;
    let settled = false;
    const child = spawn(file ?? '', args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (data: Buffer) => {
      const text = data.toString();
      output += text;
      if (output.length > MAX_OUTPUT) output = `…(earlier output cut)\n${output.slice(-MAX_OUTPUT)}`;
      opts.onOutput?.(text);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);

    const stop = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
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

    const finish = (result: Partial<CommandResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolveResult({ exitCode: null, signal: null, output, timedOut, cancelled, durationMs: Date.now() - started, ...result });
    };
    child.once('error', (err) => finish({ spawnError: err.message, exitCode: null }));
    child.once('close', (code, signal) => finish({ exitCode: code, signal }));
  });
}
