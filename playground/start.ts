// Playground mode (no Slack credentials): Shipmate, a local Slack stand-in and a web page that plays Slack, in one process.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createShipmate, type Role, type Shipmate, type ShipmateOptions } from '../src/app.js';
import type { Config } from '../src/core/config.js';
import type { EnvOptions } from '../src/core/env.js';
import type { Logger } from '../src/core/logger.js';
import { startSlackStandin, type SlackStandin } from './slack-standin/server.js';
import { demoChannels, demoUsers, type DemoUser } from './demo-workspace.js';
import { startPlaygroundServer } from './server.js';
import { SlackBridge } from './slack-bridge.js';
import { ensureDemoRepo } from './demo-repo.js';
import { parseRepository } from '../src/versions/repository.js';
import { describeState } from '../src/flags/evaluation.js';

export interface PlaygroundOptions {
  config: Config;
  redisUrl: string;
  log: Logger;
  role?: Role;
  /** Redis key prefix (SHIPMATE_PREFIX). */
  prefix?: string;
  /** The page's port (PORT, default 3000; 0 picks a free one). */
  port?: number;
  /** Default 127.0.0.1: the playground is a local tool. */
  host?: string;
  worker?: ShipmateOptions['worker'];
  /** Environment for step commands (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the stand-in keeps its channels across restarts (SHIPMATE_DATA_DIR/playground-slack.json); none: in memory only. */
  slackStateFile?: string;
  /** Where mirrors of remote repositories are kept (SHIPMATE_DATA_DIR/git). */
  gitCacheDir?: string;
}

export interface Playground {
  /** The page: "http://127.0.0.1:3000/". */
  url: string;
  host: string;
  port: number;
  /** The bot's own Slack endpoint (signed requests only, like on Slack). */
  botUrl: string;
  standin: SlackStandin;
  shipmate: Shipmate;
  users: DemoUser[];
  stop(): Promise<void>;
}

/** Starts the stand-in, Shipmate against it and the page; everything on 127.0.0.1 unless `host` says otherwise. */
export async function createPlayground(opts: PlaygroundOptions): Promise<Playground> {
  if (opts.role === 'worker') {
    throw new Error('The playground runs the app and the workers in one process: drop --role worker, or set SLACK_BOT_TOKEN (and SLACK_API_URL) to run a worker on its own.');
  }
  const log = opts.log.child({ component: 'playground' });
  if (opts.role === 'app') log.warn('playground with --role app: no worker runs in this process, so deploys wait in their queues');
  const signingSecret = randomBytes(24).toString('hex');
  const botToken = `xoxb-playground-${randomBytes(12).toString('hex')}`;
  // shipmate.yml's repository is a local path (.data/demo-repo): made here on first start, so deploys are commits from the start.
  for (const value of [opts.config.repository, ...opts.config.environments.map((e) => e.repository)]) {
    const repo = value === undefined ? undefined : parseRepository(value);
    if (repo?.kind === 'local' && ensureDemoRepo(repo.gitUrl)) log.info({ dir: repo.gitUrl }, 'created the demo repository (tags v1.0.0, v1.0.1, v1.1.0; branches main, staging, broken)');
  }
  const users = demoUsers(opts.config);
  const channels = demoChannels(opts.config);
  const standin = await startSlackStandin({ token: botToken, host: '127.0.0.1', users, channels, persistFile: opts.slackStateFile });
  const stops: Array<() => Promise<void>> = [() => standin.close()];
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= (async () => {
    for (const stop of [...stops].reverse()) await stop().catch((err: Error) => log.warn({ err: err.message }, 'playground stop step failed'));
  })());
  try {
    const shipmate = await createShipmate({
      config: opts.config,
      role: opts.role ?? 'all',
      redisUrl: opts.redisUrl,
      prefix: opts.prefix,
      slack: { botToken, signingSecret, apiUrl: standin.url },
      port: 0,
      host: '127.0.0.1',
      log: opts.log,
      env: opts.env,
      worker: opts.worker,
      gitCacheDir: opts.gitCacheDir,
    });
    stops.push(() => shipmate.stop());
    const { port: botPort } = await shipmate.start();
    const botOrigin = `http://127.0.0.1:${botPort}`;
    const names = new Map(users.map((u) => [u.id, u.name]));
    const bridge = new SlackBridge({ botUrl: `${botOrigin}/slack/events`, signingSecret, standin, userName: (id) => names.get(id) ?? id.toLowerCase(), log });
    const host = opts.host ?? '127.0.0.1';
    const server = await startPlaygroundServer({ standin, bridge, users, botOrigin, log, port: opts.port ?? 3000, host, flags: () => playgroundFlags(shipmate) }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new Error(`Port ${opts.port ?? 3000} is in use: set PORT to another port for the playground.`) : err;
    });
    stops.push(() => server.close());
    return { url: server.url, host: server.host, port: server.port, botUrl: `${botOrigin}/slack/events`, standin, shipmate, users, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Each flag with its state in words per environment (the same words as /flag list). */
async function playgroundFlags(shipmate: Shipmate): Promise<Array<{ key: string; type: string; states: Array<{ env: string; state: string }> }>> {
  const envs = shipmate.deps.config.environments.map((e) => e.name);
  return (await shipmate.deps.flags.list()).map((f) => ({ key: f.key, type: f.type, states: envs.map((env) => ({ env, state: describeState(f, env) })) }));
}

/** The address people should open: "localhost" for loopback or any-address binds. */
function browserUrl(host: string, port: number): string {
  const name = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(host) ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}/`;
}

/** `ready` prints the start-up banner (src/core/banner.ts) with the page's address; without it, one plain line says where. */
export async function startPlayground(opts: { config: Config; redisUrl: string; options: EnvOptions; log: Logger; role: 'app' | 'worker' | 'all'; ready?: (started: { playground: string }) => void }): Promise<() => Promise<void>> {
  const { options } = opts;
  const host = process.env.PLAYGROUND_HOST || '127.0.0.1';
  const playground = await createPlayground({
    config: opts.config,
    redisUrl: opts.redisUrl,
    log: opts.log,
    role: opts.role,
    prefix: options.SHIPMATE_PREFIX,
    port: options.PORT,
    host,
    slackStateFile: join(options.SHIPMATE_DATA_DIR, 'playground-slack.json'),
    worker: { lockDuration: options.SHIPMATE_WORKER_LOCK_MS, stalledInterval: Math.max(500, Math.floor(options.SHIPMATE_WORKER_LOCK_MS / 2)) },
    gitCacheDir: join(options.SHIPMATE_DATA_DIR, 'git'),
  });
  const url = browserUrl(host, playground.port);
  const line = `Shipmate playground: open ${url} — a stand-in for Slack, for trying Shipmate; not for production. Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to run against Slack.`;
  if (opts.ready) opts.ready({ playground: url });
  else process.stdout.write(`\n${line}\n\n`);
  opts.log.info({ url, host, port: playground.port, mode: 'playground' }, line);
  return () => playground.stop();
}
