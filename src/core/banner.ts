// What `npm start` says first, in plain words: where to open Shipmate, which config it loaded, where Redis keeps
// its data and how to stop. Log lines written while it starts are held back until then and follow it (JSON for
// ops; pretty-printed when stdout is a terminal).
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { EnvOptions } from './env.js';
import { createLogger, type Logger } from './logger.js';

/** What only the running process knows: the playground's address, or how Slack reaches it. */
export type StartedAs = { playground: string } | { slack: 'http' | 'socket'; port: number; role: 'app' | 'worker' | 'all' };

/** A Redis URL with its password hidden. */
function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL (not shown: it does not parse as a URL)';
  }
}

export function bannerLines(options: EnvOptions, started: StartedAs, cwd = process.cwd()): string[] {
  const config = resolve(cwd, options.SHIPMATE_CONFIG);
  const redis = options.REDIS_URL
    ? `your Redis at ${safeRedisUrl(options.REDIS_URL)} (REDIS_URL)`
    : `a redis-server Shipmate runs itself; its data stays in ${resolve(cwd, options.SHIPMATE_DATA_DIR, 'redis')} between runs`;
  const row = (label: string, text: string) => `  ${label.padEnd(8)}${text}`;
  const lines: string[] = [];
  if ('playground' in started) {
    lines.push('Shipmate is running in playground mode (no Slack credentials are set).', '');
    lines.push(row('Open', `${started.playground} in your browser: a stand-in for Slack with demo users. Type /shipmate there.`));
    lines.push(row('Slack', 'set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see the README) to run in a real workspace instead.'));
  } else {
    const where = started.slack === 'socket'
      ? 'Connected to Slack over Socket Mode (no public URL needed).'
      : `Slack sends its requests to port ${started.port}, path /slack/events: your app's Request URLs must reach it.`;
    lines.push(`Shipmate is running against Slack${started.role === 'all' ? '' : ` (--role ${started.role})`}.`, '');
    if (started.role !== 'worker') lines.push(row('Slack', where));
    lines.push(row('Health', `http://localhost:${started.port}/healthz and /metrics`));
  }
  lines.push(row('Config', config));
  lines.push(row('Redis', redis));
  lines.push(row('Stop', 'Ctrl+C (or SIGTERM). A running deploy stops at its next step and resumes there on the next start.'));
  lines.push('', 'Log lines follow.', '');
  return lines;
}

/**
 * The start-up logger and the banner that goes before its lines. Until `ready()` is called the log lines are held;
 * if start-up fails (or takes over 30 s) they are written anyway, so nothing is ever lost.
 */
export function startupOutput(options: EnvOptions, out: NodeJS.WriteStream = process.stdout): { log: Logger; ready(started: StartedAs): void } {
  let held: Array<string | Buffer> | undefined = [];
  const release = () => {
    const lines = held ?? [];
    held = undefined;
    for (const chunk of lines) out.write(chunk);
  };
  const gate = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (held) held.push(chunk);
      else out.write(chunk);
      done();
    },
  });
  process.once('exit', release);
  setTimeout(release, 30_000).unref();
  return {
    log: createLogger({ level: options.LOG_LEVEL, destination: gate, pretty: out.isTTY === true }),
    ready(started) {
      if (held) out.write(`\n${bannerLines(options, started).join('\n')}\n`);
      release();
    },
  };
}
