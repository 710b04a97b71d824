// Start-up: read the environment and config, start (or connect to) Redis, run the app and/or workers.
import { join } from 'node:path';
import { createShipmate } from './app.js';
import { ConfigError, loadConfig } from './core/config.js';
import { parseRole, readEnvOptions } from './core/env.js';
import type { createLogger } from './core/logger.js';
import { startupOutput } from './core/banner.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './core/redis.js';

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

  let embedded: EmbeddedRedis | undefined;
  let redisUrl = options.REDIS_URL;
  if (!redisUrl) {
    embedded = await startEmbeddedRedis({ dir: join(options.SHIPMATE_DATA_DIR, 'redis') });
    redisUrl = embedded.url;
    log.info({ dir: embedded.dir, port: embedded.port }, 'embedded redis started (set REDIS_URL to use your own)');
  }

  if (!options.SLACK_BOT_TOKEN || (!options.SLACK_SIGNING_SECRET && !options.SLACK_APP_TOKEN)) {
    const { startPlayground } = await import('../playground/start.js');
    const stop = await startPlayground({ config, redisUrl, options, log, role, ready });
    onShutdown(log, async () => {
      await stop();
      await embedded?.stop();
    });
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
  });
  const { port } = await shipmate.start();
  ready({ slack: options.SLACK_APP_TOKEN ? 'socket' : 'http', port, role });
  onShutdown(log, async () => {
    await shipmate.stop();
    await embedded?.stop();
  });
}

function onShutdown(log: ReturnType<typeof createLogger>, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new work; running deploys are handed back at the next step');
    stop()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`shipmate failed to start: ${err.message}\n`);
  process.exit(1);
});
