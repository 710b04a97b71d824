// Flag evaluation benchmark: evaluations per second and p99 latency of Shipmate's OFREP routes on this machine,
// single (POST /ofrep/v1/evaluate/flags/{key}) and bulk (POST /ofrep/v1/evaluate/flags, every flag per request),
// side by side with a baseline server on the same node:http stack that reads the body and returns a constant.
// Everything runs on 127.0.0.1 against a real redis-server; each run is bounded (BENCH_SECONDS, default 3 s,
// at most 30). Prints a table and a JSON line; it asserts nothing about time.
//   npm run bench:flags        BENCH_SECONDS=5 BENCH_CONNECTIONS=20 npm run bench:flags
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { parseConfig } from '../src/core/config.js';
import { createLogger } from '../src/core/logger.js';
import { createRedis, startEmbeddedRedis } from '../src/core/redis.js';
import { DeployStore } from '../src/deploys/deploy-store.js';
import { evaluate } from '../src/flags/evaluation.js';
import { FlagService } from '../src/flags/flag-service.js';
import { ofrepHandler } from '../src/flags/ofrep.js';

const SECONDS = Math.min(30, Math.max(1, Number(process.env.BENCH_SECONDS ?? 3)));
const CONNECTIONS = Math.min(100, Math.max(1, Number(process.env.BENCH_CONNECTIONS ?? 10)));
const FLAG_COUNT = 20;
const KEY = 'bench-key-0123456789';

const CONFIG = `
environments:
  - name: production
    steps: [{ name: Build, run: [node, -e, ""] }]
flags:
  types: { experiment: { value: boolean }, limit: { value: number } }
  apiKeys: { production: BENCH_OFREP_KEY }
`;

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface Row { scenario: string; server: string; requestsPerSec: number; evaluationsPerSec: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number }

async function load(scenario: string, server: string, url: string, path: string, perRequest: number): Promise<Row> {
  let n = 0;
  const result = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    // A different targeting key per request, so percentage flags really split.
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ context: { targetingKey: `user-${n++ % 100_000}` } }) }) }],
  });
  return {
    scenario, server,
    requestsPerSec: Math.round(result.requests.average),
    evaluationsPerSec: Math.round(result.requests.average * perRequest),
    p50Ms: result.latency.p50, p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts, non2xx: result.non2xx,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shipmate-bench-'));
  const redisServer = await startEmbeddedRedis({ dir });
  const redis = createRedis(redisServer.url);
  const log = createLogger({ level: 'warn' });
  const config = parseConfig(CONFIG, 'bench.yml', { BENCH_OFREP_KEY: KEY });
  const prefix = `bench${Date.now().toString(36)}`;
  const flags = new FlagService({
    config, redis, prefix, log, now: Date.now, store: new DeployStore(redis, prefix),
    delivery: { send: async () => undefined, tsOf: async () => undefined },
    roles: { hasAnyRole: async () => true } as never,
  });
  for (let i = 0; i < FLAG_COUNT; i++) {
    const key = `flag_${i}`;
    await flags.create({ key, type: i % 4 === 0 ? 'limit' : 'experiment', description: `bench flag ${i}`, user: 'U0BENCH' });
    const change = i % 4 === 0 ? { kind: 'set' as const, text: String(i * 10) } : i % 4 === 1 ? { kind: 'percent' as const, percentage: 25 } : { kind: 'on' as const };
    await flags.change({ key, env: 'production', user: 'U0BENCH', change, channel: 'C0BENCH' });
  }
  const handle = ofrepHandler({ flags, log }, new Map([[KEY, 'production']]));
  const ofrep = await listen((req, res) => {
    const m = /^\/ofrep\/v1\/evaluate\/flags(?:\/([^/?]+))?$/.exec(req.url ?? '');
    if (!m || req.method !== 'POST') return void res.writeHead(404).end();
    void handle(req, res, m[1] ? decodeURIComponent(m[1]) : undefined);
  });
  const constant = JSON.stringify({ key: 'flag_1', value: true, reason: 'STATIC', variant: 'on' });
  const constantBulk = JSON.stringify({ flags: Array.from({ length: FLAG_COUNT }, (_, i) => ({ key: `flag_${i}`, value: true, reason: 'STATIC', variant: 'on' })) });
  const baseline = await listen((req, res) => {
    // The same work a real server cannot skip: read the body, answer JSON.
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(req.url?.endsWith('/flags') ? constantBulk : constant));
  });

  // In-process: the pure evaluation alone, no HTTP, no Redis.
  const snapshot = await flags.snapshot();
  const flag = snapshot.byKey.get('flag_1');
  const started = process.hrtime.bigint();
  let count = 0;
  while (process.hrtime.bigint() - started < 500_000_000n) {
    for (let i = 0; i < 1000; i++) evaluate(flag, 'flag_1', 'production', { targetingKey: `user-${count++}` });
  }
  const inProcess = Math.round(count / (Number(process.hrtime.bigint() - started) / 1e9));

  const rows: Row[] = [];
  rows.push(await load('single', 'baseline (constant)', baseline.url, '/ofrep/v1/evaluate/flags/flag_1', 1));
  rows.push(await load('single', 'shipmate OFREP', ofrep.url, '/ofrep/v1/evaluate/flags/flag_1', 1));
  rows.push(await load(`bulk (${FLAG_COUNT} flags)`, 'baseline (constant)', baseline.url, '/ofrep/v1/evaluate/flags', FLAG_COUNT));
  rows.push(await load(`bulk (${FLAG_COUNT} flags)`, 'shipmate OFREP', ofrep.url, '/ofrep/v1/evaluate/flags', FLAG_COUNT));

  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`\nFlag evaluation on 127.0.0.1, ${CONNECTIONS} connections, ${SECONDS} s per row, Node ${process.version}`);
  console.log(`in-process evaluate() of a 25% flag: ${inProcess.toLocaleString('en')} evaluations/s\n`);
  console.log(`| scenario | server | requests/s | evaluations/s | p50 ms | p99 ms | errors | non-2xx |`);
  console.log(`| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const r of rows) console.log(`| ${r.scenario} | ${r.server} | ${pad(r.requestsPerSec, 8)} | ${pad(r.evaluationsPerSec, 9)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.non2xx} |`);
  console.log(`\n${JSON.stringify({ bench: 'flags', seconds: SECONDS, connections: CONNECTIONS, flags: FLAG_COUNT, inProcessEvaluationsPerSec: inProcess, rows })}`);

  await Promise.all([ofrep.server, baseline.server].map((s) => new Promise((ok) => s.close(ok))));
  await redis.quit();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
