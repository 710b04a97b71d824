// Builds Shipmate once: logger, Redis, queues, Slack client, stores and services go into one `deps`
// object; the Bolt app (HTTP or Socket Mode) registers commands and actions; workers run the jobs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { Logger as SlackLogger } from '@slack/logger';
import { WebClient } from '@slack/web-api';
import { registerCommands } from '../commands/index.js';
import { DeployQueues } from '../jobs/queues.js';
import { startWorkers, type RunningWorkers } from '../jobs/workers.js';
import { registerActions } from './slack/actions/index.js';
import { receiverGuards } from './slack/actions/guard.js';
import type { Config } from './core/config.js';
import { DeployService } from './deploys/deploy-service.js';
import { DeployStore } from './deploys/deploy-store.js';
import { GateService } from './gates/gate-service.js';
import type { Deps, ServiceDeps } from './deps.js';
import type { Logger } from './core/logger.js';
import { createMasker } from './core/mask.js';
import { createMetrics, opsRoutes } from './ops/ops.js';
import { RoleDirectory } from './gates/roles.js';
import { createRedis } from './core/redis.js';
import { StatusMessenger } from './slack/status-message.js';

export type Role = 'app' | 'worker' | 'all';

export interface ShipmateOptions {
  config: Config;
  role?: Role;
  redisUrl: string;
  /** Redis key prefix for everything Shipmate stores; tests use a unique one each. */
  prefix?: string;
  slack: { botToken: string; signingSecret?: string; appToken?: string; apiUrl?: string };
  port?: number;
  host?: string;
  log: Logger;
  /** Environment for step commands and for reading secret values to mask. */
  env?: NodeJS.ProcessEnv;
  worker?: { lockDuration?: number; stalledInterval?: number };
  now?: () => number;
}

export interface Shipmate {
  deps: Deps;
  app?: InstanceType<typeof App>;
  /** Starts listening (HTTP or Socket Mode) and the workers; resolves with the HTTP port. */
  start(): Promise<{ port: number }>;
  /** Stops taking work, hands running deploys back at a step boundary, closes Redis. */
  stop(): Promise<void>;
}

/** Adapts pino to the logger interface Bolt and the Slack SDKs expect. */
function slackLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'bolt' });
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

export async function createShipmate(opts: ShipmateOptions): Promise<Shipmate> {
  const role = opts.role ?? 'all';
  const prefix = opts.prefix ?? 'shipmate';
  const env = opts.env ?? process.env;
  const log = opts.log;
  const redis = createRedis(opts.redisUrl);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const slack = new WebClient(opts.slack.botToken, {
    slackApiUrl: opts.slack.apiUrl,
    logger: slackLogger(log),
    // Each call gives up after 10 s and is retried 3 times (429s wait for Retry-After).
    timeout: 10_000,
    retryConfig: { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 5_000 },
  });
  const now = opts.now ?? Date.now;
  const store = new DeployStore(redis, prefix, now);
  const queues = new DeployQueues(opts.config, redis, prefix, (queue, err) => log.warn({ queue, err: err.message }, 'queue connection error'));
  const roles = new RoleDirectory(opts.config, slack, log);
  const metrics = createMetrics();
  const messenger = new StatusMessenger(store, slack, opts.config, log, metrics);
  const services: ServiceDeps = { config: opts.config, store, queues, messenger, roles, slack, redis, prefix, log, now, stepEnv: env };
  const deps: Deps = { ...services, mask: createMasker(opts.config.secrets, env), deploys: new DeployService(services), gates: new GateService(services) };
  await queues.init();

  const routes = opsRoutes(deps, metrics.registry);
  let app: InstanceType<typeof App> | undefined;
  let httpReceiver: InstanceType<typeof HTTPReceiver> | undefined;
  let plainServer: Server | undefined;
  let workers: RunningWorkers | undefined;

  if (role !== 'worker') {
    const boltLogger = slackLogger(log);
    const clientOptions = { slackApiUrl: opts.slack.apiUrl };
    if (opts.slack.appToken) {
      // installerOptions.clientOptions reaches the Socket Mode client's own WebClient (apps.connections.open).
      const receiver = new SocketModeReceiver({ appToken: opts.slack.appToken, logger: boltLogger, customRoutes: routes, installerOptions: { port: opts.port ?? 3000, clientOptions } });
      app = new App({ token: opts.slack.botToken, receiver, logger: boltLogger, clientOptions });
    } else {
      if (!opts.slack.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
      httpReceiver = new HTTPReceiver({
        signingSecret: opts.slack.signingSecret, endpoints: '/slack/events', customRoutes: routes, logger: boltLogger, processBeforeResponse: false,
        // A signed payload Bolt cannot classify or read gets a logged refusal and a 200, not a 404 or 500.
        ...receiverGuards(log),
      });
      app = new App({ token: opts.slack.botToken, receiver: httpReceiver, logger: boltLogger, clientOptions });
    }
    registerCommands(app, deps);
    registerActions(app, deps);
    app.error(async (err) => {
      log.error({ err: err.message, code: (err as { code?: string }).code }, 'unhandled error in a listener');
    });
  }

  return {
    deps,
    app,
    async start() {
      let port = opts.port ?? 3000;
      if (role !== 'app') workers = await startWorkers(deps, { redisUrl: opts.redisUrl, ...opts.worker });
      if (httpReceiver) {
        const server = (await httpReceiver.start({ port, host: opts.host ?? '0.0.0.0' })) as Server;
        port = (server.address() as AddressInfo).port;
      } else if (app) {
        await app.start();
      } else {
        // Worker-only processes still answer /healthz and /metrics.
        plainServer = createServer((req, res) => {
          const route = routes.find((r) => r.path === req.url?.split('?')[0]);
          if (route) route.handler(req, res);
          else res.writeHead(404).end();
        });
        await new Promise<void>((ok) => plainServer?.listen(port, opts.host ?? '0.0.0.0', ok));
        port = (plainServer.address() as AddressInfo).port;
      }
      void roles.warm();
      log.info({ role, port, mode: opts.slack.appToken ? 'socket' : 'http' }, 'shipmate started');
      return { port };
    },
    async stop() {
      if (httpReceiver) await httpReceiver.stop().catch(() => undefined);
      else if (app) await app.stop().catch(() => undefined);
      if (plainServer) await new Promise((ok) => plainServer?.close(ok));
      if (workers) await workers.close();
      await queues.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
