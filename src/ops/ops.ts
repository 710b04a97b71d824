// /healthz and /metrics: Redis reachability, queue counts and version; prom-client metrics plus BullMQ's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Deps } from '../deps.js';

export const VERSION = process.env.npm_package_version ?? '0.1.0';

export interface DeployMetrics {
  registry: Registry;
  /** One count per finished deploy, by environment and final status. */
  deploys: Counter<'env' | 'status' | 'kind'>;
  duration: Histogram<'env' | 'status'>;
}

export function createMetrics(): DeployMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shipmate_' });
  return {
    registry,
    deploys: new Counter({ name: 'shipmate_deploys_total', help: 'Finished deploys by environment, status and kind', labelNames: ['env', 'status', 'kind'], registers: [registry] }),
    duration: new Histogram({ name: 'shipmate_deploy_duration_seconds', help: 'Deploy duration from first step to end', labelNames: ['env', 'status'], buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600], registers: [registry] }),
  };
}

export async function health(deps: Pick<Deps, 'redis' | 'queues'>): Promise<{ status: number; body: Record<string, unknown> }> {
  let redisOk = false;
  let queues: Record<string, Record<string, number>> = {};
  let error: string | undefined;
  try {
    redisOk = (await Promise.race([deps.redis.ping(), new Promise<string>((_, fail) => setTimeout(() => fail(new Error('redis ping timed out')), 2_000))])) === 'PONG';
    queues = await deps.queues.counts();
  } catch (err) {
    error = (err as Error).message;
  }
  const ok = redisOk && !error;
  return { status: ok ? 200 : 503, body: { ok, version: VERSION, redis: redisOk ? 'reachable' : 'unreachable', queues, ...(error ? { error } : {}) } };
}

export function opsRoutes(deps: Pick<Deps, 'redis' | 'queues'>, registry: Registry) {
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        void health(deps).then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        });
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        void (async () => {
          try {
            const own = await registry.metrics();
            const bull = await Promise.all([...deps.queues.byEnv.values(), deps.queues.watch].map((q) => q.exportPrometheusMetrics({ app: 'shipmate' })));
            res.writeHead(200, { 'content-type': registry.contentType });
            res.end(`${own}\n${bull.join('\n')}\n`);
          } catch (err) {
            res.writeHead(503, { 'content-type': 'text/plain' });
            res.end(`metrics unavailable: ${(err as Error).message}\n`);
          }
        })();
      },
    },
  ];
}
