// Start-up: read the environment and config, start (or connect to) Redis, run the app and/or workers.
// This process handles SIGTERM/SIGINT itself (`npm start` runs node, not a tsx wrapper, so the pid it logs is
// the one to signal); shutdown is bounded, and the embedded redis-server never outlives the process.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createShipmate } from './app.js';
import { ConfigError, loadConfig, type Config } from './core/config.js';
import { parseRole, readEnvOptions, type EnvOptions } from './core/env.js';
import type { Logger } from './core/logger.js';
import { startupOutput, type StartedAs } from './core/banner.js';
import { startEmbeddedRedis } from './core/redis.js';

async function main(): Promise<void> {
  const options = readEnvOptions();
  const { log, ready } = startupOutput(options);
  const role = parseRole(process.argv.slice(2));
  let config;
  try {
    config = loadConfig(options.SHIPMATE_CONFIG);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const shutdown = createShutdown(log, options.SHIPMATE_SHUTDOWN_MS);
  process.on('SIGTERM', () => shutdown.run('SIGTERM', 0));
  process.on('SIGINT', () => shutdown.run('SIGINT', 0));
  // Node would exit at once here, skipping the shutdown (and the exit event): stop in order instead.
  process.on('uncaughtException', (err) => {
    log.fatal({ err: err.message, stack: err.stack }, 'uncaught error: shutting down');
    shutdown.run('uncaught error', 1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection: shutting down');
    shutdown.run('unhandled rejection', 1);
  });
  log.info({ pid: process.pid, role }, 'shipmate starting (SIGTERM or Ctrl-C stops it)');

  try {
    await start(options, config, role, log, shutdown, ready);
  } catch (err) {
    process.stderr.write(`shipmate failed to start: ${startProblem(err, options)}\n`);
    shutdown.run('start-up failed', 1);
  }
}

async function start(options: EnvOptions, config: Config, role: ReturnType<typeof parseRole>, log: Logger, shutdown: Shutdown, ready: (started: StartedAs) => void): Promise<void> {
  // Before anything starts: a second instance on a busy port must not leave a redis-server behind.
  await assertPortFree(options.PORT, options.HOST);

  let redisUrl = options.REDIS_URL;
  if (!redisUrl) {
    const embedded = await startEmbeddedRedis({ dir: join(options.SHIPMATE_DATA_DIR, 'redis') });
    shutdown.add(() => embedded.stop());
    redisUrl = embedded.url;
    log.info({ dir: embedded.dir, port: embedded.port, pid: embedded.process.pid }, 'embedded redis started (set REDIS_URL to use your own)');
  }

  if (!options.SLACK_BOT_TOKEN || (!options.SLACK_SIGNING_SECRET && !options.SLACK_APP_TOKEN)) {
    const { startPlayground } = await import('../playground/start.js');
    shutdown.add(await startPlayground({ config, redisUrl, options, log, role, ready }));
    return;
  }

  const shipmate = await createShipmate({
    config,
    role,
    redisUrl,
    prefix: options.SHIPMATE_PREFIX,
    slack: { botToken: options.SLACK_BOT_TOKEN, signingSecret: options.SLACK_SIGNING_SECRET, appToken: options.SLACK_APP_TOKEN, apiUrl: options.SLACK_API_URL },
    port: options.PORT,
    host: options.HOST,
    log,
    worker: { lockDuration: options.SHIPMATE_WORKER_LOCK_MS, stalledInterval: Math.max(500, Math.floor(options.SHIPMATE_WORKER_LOCK_MS / 2)) },
    gitCacheDir: join(options.SHIPMATE_DATA_DIR, 'git'),
    github: { token: options.GITHUB_TOKEN, apiUrl: options.GITHUB_API_URL, webhookSecret: options.GITHUB_WEBHOOK_SECRET, pollMs: { min: options.SHIPMATE_GITHUB_POLL_MS, max: options.SHIPMATE_GITHUB_POLL_MS * 15 } },
  });
  shutdown.add(() => shipmate.stop());
  const { port } = await shipmate.start();
  ready({ slack: options.SLACK_APP_TOKEN ? 'socket' : 'http', port, role });
}

interface Shutdown {
  /** Registers a stop step; steps run in reverse order (the app before the Redis it uses). */
  add(step: () => Promise<void>): void;
  /** Stops everything and exits with `code` (1 if a step failed or time ran out). A second call exits at once. */
  run(reason: string, code: number): void;
}

function createShutdown(log: Logger, boundMs: number): Shutdown {
  const steps: Array<() => Promise<void>> = [];
  let stopping = false;
  return {
    add: (step) => steps.push(step),
    run(reason, code) {
      if (stopping) {
        log.warn({ reason }, 'already shutting down: exiting now');
        process.exit(code || 1);
      }
      stopping = true;
      log.info({ reason, boundMs }, 'shutting down');
      // Stuck steps (e.g. Redis down: BullMQ waits to hand jobs back) must not keep the process alive for ever.
      setTimeout(() => {
        log.error({ reason, boundMs }, 'shutdown did not finish in time: exiting anyway');
        process.exit(1);
      }, boundMs);
      void (async () => {
        let failed = false;
        for (const step of [...steps].reverse()) {
          await step().catch((err: Error) => {
            failed = true;
            log.error({ err: err.message }, 'shutdown step failed');
          });
        }
        process.exit(failed ? 1 : code);
      })();
    },
  };
}

async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((ok, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(port, host, () => probe.close(() => ok()));
  });
}

/** What a person needs to read when start-up fails. */
function startProblem(err: unknown, options: EnvOptions): string {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return `port ${options.PORT} on ${options.HOST} is already in use (is Shipmate already running?). Stop it or set PORT.`;
  }
  return (err as Error).message;
}

main().catch((err: Error) => {
  process.stderr.write(`shipmate failed to start: ${err.message}\n`);
  process.exit(1);
});
