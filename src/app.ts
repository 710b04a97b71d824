// Builds Shipmate once: logger, Redis, queues, Slack client, stores and services go into a `deps` object (one per
// Redis connection, see below); the Bolt app (HTTP or Socket Mode) registers commands and actions; workers run the jobs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { Logger as SlackLogger } from '@slack/logger';
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { registerCommands } from '../commands/index.js';
import { DeployQueues } from '../jobs/queues.js';
import { startWorkers, type RunningWorkers } from '../jobs/workers.js';
import { migrateOldLog } from './insight/log-migration.js';
import { registerActions } from './slack/actions/index.js';
import { receiverGuards } from './slack/actions/guard.js';
import type { Config } from './core/config.js';
import { DeployService } from './deploys/deploy-service.js';
import { DeployStore } from './deploys/deploy-store.js';
import { GateService } from './gates/gate-service.js';
import type { Deps, ServiceDeps } from './deps.js';
import { addLogMasker, type Logger } from './core/logger.js';
import { createMasker, maskDeep, maskingFetch } from './core/mask.js';
import { createMetrics, opsRoutes } from './ops/ops.js';
import { registerDoraGauges } from './insight/metrics.js';
import { RoleDirectory } from './gates/roles.js';
import { createFailFastRedis, createRedis, keyPrefixFor } from './core/redis.js';
import { StatusMessenger } from './slack/status-message.js';
import { RedisDelivery } from './notify/delivery.js';
import { baseStepEnv } from './steps/step-env.js';
import { FollowUpQueue } from './notify/follow-ups.js';
import { Notifier } from './notify/notifier.js';
import { Versions, type ResolverFactory } from './versions/versions.js';
import { createGithubClient, type GithubSettings } from './github/client.js';
import { GithubDeployments } from './github/deployments.js';
import { githubConfigWarnings } from './github/settings.js';
import { githubWebhookRoute } from './github/webhook.js';
import { GithubRefResolver } from './github/github-resolver.js';
import type { GithubClient } from './github/client.js';
import { FlagService } from './flags/flag-service.js';
import { ofrepRoutes, ofrepKeys, ofrepKeyWarnings } from './flags/ofrep.js';
import { ReleaseService } from './releases/release-service.js';

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
  /** A logger made by createLogger: Shipmate adds its secret masker to it, so every line is masked. */
  log: Logger;
  /** Shipmate's environment: secret values to mask are read from it, and steps get the part the config names (see baseStepEnv). */
  env?: NodeJS.ProcessEnv;
  worker?: { lockDuration?: number; stalledInterval?: number };
  /** Message delivery: how long one Slack call may take, the soft pace of edits to one message, the retry backoff. */
  delivery?: { timeoutMs?: number; editPaceMs?: number; backoffMs?: number; maxBackoffMs?: number };
  now?: () => number;
  /** Where mirrors of remote repositories are kept (SHIPMATE_DATA_DIR/git); default a directory under the system's temp dir. */
  gitCacheDir?: string;
  /** Picks each repository's RefResolver (e.g. GitHub's API when a token is set); default git. */
  resolvers?: ResolverFactory;
  /** GITHUB_TOKEN, GITHUB_API_URL, GITHUB_WEBHOOK_SECRET (read once by main.ts); without a token GitHub features are off. */
  github?: GithubSettings;
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

/** With a GitHub client, the configured GitHub repository is read through its API; everything else through git. */
function githubResolvers(github: GithubClient | undefined): ResolverFactory | undefined {
  if (!github) return undefined;
  return (repo, fallback) => (repo.kind === 'github' && repo.owner === github.owner && repo.name === github.repo ? new GithubRefResolver(github) : fallback());
}

export async function createShipmate(opts: ShipmateOptions): Promise<Shipmate> {
  const role = opts.role ?? 'all';
  // On a Redis Cluster the prefix is a hash tag ({shipmate}), so all of Shipmate's keys share one slot.
  const prefix = keyPrefixFor(opts.redisUrl, opts.prefix ?? 'shipmate');
  const env = opts.env ?? process.env;
  const log = opts.log;
  // The one masker, applied where output leaves: the log stream, Slack's HTTP transport, the store's writes.
  // OFREP API keys (one per environment, read from the variables flags.apiKeys names) are secrets like the rest.
  const flagKeys = ofrepKeys(opts.config, env);
  const mask = createMasker(opts.config.secrets, env, [opts.slack.botToken, opts.slack.signingSecret, opts.slack.appToken, opts.github?.token, opts.github?.webhookSecret, ...flagKeys.keys()]);
  addLogMasker(log, mask);
  const fetch = maskingFetch(mask, globalThis.fetch);
  // Two connections: workers, follow-ups and ops use the patient one (it waits out a Redis restart and
  // carries on); everything done inside a Slack request uses a fail-fast one, so a request made while Redis
  // is away is refused at once and never replayed later. The services are built once per connection.
  const redis = createRedis(opts.redisUrl);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const requestRedis = role === 'worker' ? undefined : createFailFastRedis(opts.redisUrl);
  requestRedis?.on('error', (err) => log.debug({ err: err.message }, 'request redis connection error'));
  const slack = new WebClient(opts.slack.botToken, {
    slackApiUrl: opts.slack.apiUrl,
    fetch,
    logger: slackLogger(log),
    // Each call gives up after 10 s and is retried 3 times (429s wait for Retry-After).
    timeout: 10_000,
    retryConfig: { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 5_000 },
  });
  // The delivery worker's client does no waiting of its own: a failed or rate-limited call puts the channel's
  // delivery job back as delayed (Retry-After honoured), so no worker and no deploy is ever held by Slack.
  const deliverySlack = new WebClient(opts.slack.botToken, {
    slackApiUrl: opts.slack.apiUrl,
    fetch,
    logger: slackLogger(log),
    timeout: opts.delivery?.timeoutMs ?? 10_000,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const now = opts.now ?? Date.now;
  const roles = new RoleDirectory(opts.config, slack, log);
  const metrics = createMetrics();
  const stepEnv = baseStepEnv(env, opts.config);
  const github = createGithubClient(opts.github ?? {}, typeof opts.config.repository === 'string' ? opts.config.repository : undefined, log);
  for (const warning of githubConfigWarnings(opts.config, opts.github ?? {}, github !== undefined)) log.warn({ feature: 'github' }, warning);
  for (const warning of ofrepKeyWarnings(opts.config, env)) log.warn({ feature: 'flags' }, warning);
  // One set of resolvers for both connections: their caches (ls-remote answers, mirrors) are shared.
  const versions = new Versions(opts.config, { cacheDir: opts.gitCacheDir, create: opts.resolvers ?? githubResolvers(github), env });
  const build = (connection: Redis): Deps => {
    const store = new DeployStore(connection, prefix, now, mask, { keep: opts.config.log.keep, maxAgeMs: opts.config.log.keepFor });
    const queues = new DeployQueues(opts.config, connection, prefix, (queue, err) => log.warn({ queue, err: err.message }, 'queue connection error'));
    const delivery = new RedisDelivery(connection, prefix, queues.deliver, mask);
    const messenger = new StatusMessenger(store, delivery, connection, prefix, opts.config, log, metrics);
    const followUps = new FollowUpQueue(connection, prefix, (err) => log.warn({ queue: 'followups', err: err.message }, 'queue connection error'));
    const notifier = new Notifier({ config: opts.config, delivery, followUps, store, link: (key) => messenger.link(key), redis: connection, prefix, log, now });
    const githubDeployments = new GithubDeployments({ github, store, config: opts.config, log });
    const services: ServiceDeps = { config: opts.config, store, queues, messenger, delivery, roles, slack, redis: connection, prefix, log, now, stepEnv, notifier, versions, github, githubDeployments };
    const flags = new FlagService({ config: opts.config, redis: connection, prefix, store, delivery, roles, log, now, mask });
    const d = { ...services, mask, deploys: new DeployService(services), gates: new GateService(services), flags };
    return { ...d, releases: new ReleaseService({ ...d, roles }) };
  };
  const deps = build(redis);
  const requestDeps = requestRedis ? build(requestRedis) : deps;
  // App Home follows the gates: one job per user and gate state (the same state twice is one job), run by a worker.
  for (const d of new Set([deps, requestDeps])) {
    d.messenger.republishHome = async (users, state) => {
      await Promise.all(users.map((user) => d.queues.deliver.add('home', { channel: user, gen: 0 }, { jobId: `home-${user}-${state}`, delay: 200, removeOnComplete: { age: 3600 }, removeOnFail: { count: 100 } })));
    };
  }
  const { queues } = deps;
  await queues.init();
  registerDoraGauges(metrics.registry, deps);

  // OFREP reads flags on the fail-fast connection: with Redis away a service gets an error answer at once.
  const routes = [...opsRoutes(deps, metrics.registry), githubWebhookRoute(deps, opts.github?.webhookSecret), ...(role === 'worker' ? [] : ofrepRoutes(requestDeps, flagKeys))];
  let app: InstanceType<typeof App> | undefined;
  let httpReceiver: InstanceType<typeof HTTPReceiver> | undefined;
  let plainServer: Server | undefined;
  let workers: RunningWorkers | undefined;

  if (role !== 'worker') {
    const boltLogger = slackLogger(log);
    // Bolt's clients (the `client` listeners get) and its respond() use this fetch, so they are masked too.
    const clientOptions = { slackApiUrl: opts.slack.apiUrl, fetch };
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
    // Acks are answers to Slack as well (the HTTP response, or the Socket Mode envelope): masked like the rest.
    const processEvent = app.processEvent.bind(app);
    app.processEvent = (event) => processEvent({ ...event, ack: (response) => event.ack(maskDeep(response, mask)) });
    registerCommands(app, requestDeps);
    registerActions(app, requestDeps);
    app.error(async (err) => {
      log.error({ err: err.message, code: (err as { code?: string }).code }, 'unhandled error in a listener');
    });
  }

  return {
    deps,
    app,
    async start() {
      let port = opts.port ?? 3000;
      // The deployment log's old list format, moved into the indexes once (src/insight/log-migration.ts).
      await migrateOldLog(deps).then((n) => n && log.info({ entries: n }, 'old deployment log migrated'), (err: Error) => log.warn({ err: err.message }, 'old deployment log not migrated yet'));
      if (role !== 'app') {
        const { timeoutMs: _t, ...pacing } = opts.delivery ?? {};
        workers = await startWorkers(deps, { redisUrl: opts.redisUrl, ...opts.worker, deliver: { slack: deliverySlack, ...pacing } });
      }
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
      // Message links need the workspace URL; learnt in the background (links simply wait until it is known).
      void slack.auth.test().then((r) => {
        deps.messenger.setTeamUrl(r.url);
        requestDeps.messenger.setTeamUrl(r.url);
      }, (err: Error) => log.warn({ err: err.message }, 'workspace URL unknown: message links left out'));
      log.info({ role, port, mode: opts.slack.appToken ? 'socket' : 'http' }, 'shipmate started');
      return { port };
    },
    async stop() {
      if (httpReceiver) await httpReceiver.stop().catch(() => undefined);
      else if (app) await app.stop().catch(() => undefined);
      if (plainServer) await new Promise((ok) => plainServer?.close(ok));
      if (workers) await workers.close();
      await queues.close();
      await deps.notifier.close();
      await deps.releases.close();
      if (requestDeps !== deps) await Promise.all([requestDeps.queues.close(), requestDeps.notifier.close(), requestDeps.releases.close()]);
      await redis.quit().catch(() => undefined);
      await requestRedis?.quit().catch(() => undefined);
    },
  };
}
