// Benchmark 1: how fast Shipmate's real receiver acknowledges signed slash commands under load (autocannon at
// 1, 10 and 50 connections), against the floor: a minimal Bolt app acking an empty command with the same signing
// secret. Every request is signed afresh (new timestamp, new trigger_id). `/deploys dev` is measured again with
// 1,000 entries in the deployment log, to see whether it stays flat as history grows.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { signSlackRequest, slashCommandBody } from '../playground/slack-standin/requests.js';
import { startEmbeddedRedis } from '../src/core/redis.js';
import { DeployStore } from '../src/deploys/deploy-store.js';
import { SIGNING_SECRET } from '../tests/helpers/harness.js';
import { ratio, type Benchmark, type BenchRow } from './lib/types.js';

const CONNECTIONS = [1, 10, 50];
const SECONDS = 4;
const WARMUP_SECONDS = 1;

export const ACK_YAML = `
roles:
  deployers: { users: [U0ALICE] }
environments:
  - name: dev
    steps:
      - { name: Build, run: ["true"] }
  - name: staging
    steps:
      - { name: Build, run: ["true"] }
  - name: production
    deployers: [deployers]
    steps:
      - { name: Build, run: ["true"] }
`;

interface Target {
  url: string;
  responseUrl: string;
  stop(): Promise<void>;
}

/** Starts bench/lib/target.ts in its own process and waits for its READY line. */
async function startTarget(kind: 'shipmate' | 'floor', redisUrl: string, prefix: string): Promise<Target> {
  // BENCH_CPU_PROF=<dir>: each target writes a CPU profile there when it stops (open it in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(import.meta.dirname, 'lib', 'target.ts'), JSON.stringify({ kind, redisUrl, prefix, configYaml: ACK_YAML })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<{ url: string; responseUrl: string }>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\{.*\})\n/.exec(out);
      if (m?.[1]) ok(JSON.parse(m[1]) as { url: string; responseUrl: string });
    });
    child.once('exit', (code) => fail(new Error(`${kind} target exited (${code}) before it was ready`)));
  });
  return {
    ...ready,
    stop: () => new Promise<void>((ok) => {
      // A target that died under load (it prints why on stderr) is already stopped.
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }),
  };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  over3s: number;
  non2xx: number;
  expected: number;
  total: number;
}

/** Runs autocannon against the target with a fresh, signed body per request; counts answers matching `expect`. */
async function load(target: Target, connections: number, seconds: number, text: (n: number) => string, command: string, expect: RegExp): Promise<Load> {
  let n = 0;
  let expected = 0;
  let total = 0;
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    // An answer later than Slack's 3 s counts as a timeout: that is an ack Slack would have given up on.
    timeout: 3,
    requests: [{
      method: 'POST',
      setupRequest: (req) => {
        const body = slashCommandBody({ command, text: text(n++), user_id: 'U0ALICE', channel_id: 'C0RELEASES', response_url: target.responseUrl });
        return { ...req, body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body) } };
      },
      onResponse: (status, body) => {
        total++;
        if (status === 200 && expect.test(body)) expected++;
      },
    }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, over3s: result.timeouts, non2xx: result.non2xx, expected, total };
}

const CASES = [
  { id: 'dry-run', command: '/deploy', label: '/deploy --dry-run', text: (n: number) => `dev v1.${n}.0 --dry-run`, expect: /Dry run/, fresh: false },
  { id: 'enqueue', command: '/deploy', label: '/deploy (enqueues)', text: (n: number) => `dev v2.${n}.0`, expect: /Deploying/, fresh: true },
  { id: 'deploys', command: '/deploys', label: '/deploys', text: () => '', expect: /blocks/, fresh: false },
] as const;

export const benchmark: Benchmark = {
  name: 'ack',
  title: 'slash-command acknowledgement (autocannon, signed requests, receiver in its own process)',
  baseline: 'a minimal Bolt app (same Bolt, same signing secret) that acks an empty command',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-bench-ack-'));
    const redis = await startEmbeddedRedis({ dir });
    const rows: BenchRow[] = [];
    let seq = 0;
    const row = (label: string, c: number, s: Load, f: Load, extra = ''): void => {
      const note = `${s.expected}/${s.total} answered as expected${s.non2xx ? `, ${s.non2xx} non-2xx` : ''}${extra}`;
      rows.push({ case: `${label} · ${c} conn`, metric: 'req/s', shipmate: s.rps, baseline: f.rps, ratio: ratio(s.rps, f.rps), target: '≥ 0.5', note });
      rows.push({ case: `${label} · ${c} conn`, metric: 'p50 / p99 / max ms', shipmate: null, baseline: null, ratio: null, target: c === 50 ? 'p99 ≤ 25' : undefined, note: `Shipmate ${s.p50} / ${s.p99} / ${s.max}; floor ${f.p50} / ${f.p99} / ${f.max}` });
      rows.push({ case: `${label} · ${c} conn`, metric: 'acks over 3 s', shipmate: s.over3s, baseline: f.over3s, ratio: null, target: '0' });
    };
    try {
      const floor = await startTarget('floor', redis.url, 'floor');
      const floorAt = new Map<number, Load>();
      for (const c of CONNECTIONS) {
        await load(floor, c, WARMUP_SECONDS, () => 'x', '/deploy', /^$/);
        floorAt.set(c, await load(floor, c, SECONDS, (n) => `dev v1.${n}.0 --dry-run`, '/deploy', /^$/));
        ctx.log(`floor at ${c} connections: ${Math.round(floorAt.get(c)?.rps ?? 0)} req/s`);
      }
      await floor.stop();

      for (const k of CASES) {
        let target: Target | undefined;
        for (const c of CONNECTIONS) {
          // A deploy queued by one level must not weigh on the next: enqueue gets a fresh prefix (an empty queue) per level.
          if (!target || k.fresh) {
            await target?.stop();
            target = await startTarget('shipmate', redis.url, `ack${seq++}`);
            await load(target, c, WARMUP_SECONDS, k.id === 'enqueue' ? (n) => `dev w${n}` : k.text, k.command, /./);
          }
          const s = await load(target, c, SECONDS, k.text, k.command, k.expect);
          ctx.log(`${k.label} at ${c} connections: ${Math.round(s.rps)} req/s, p99 ${s.p99} ms`);
          row(k.label, c, s, floorAt.get(c) as Load);
        }
        await target?.stop();
      }

      // /deploys dev with history: the same load after 1,000 log entries (a third of them dev's).
      const prefix = `ack${seq++}`;
      const target = await startTarget('shipmate', redis.url, prefix);
      const client = new Redis(redis.url);
      const store = new DeployStore(client, prefix);
      const before = await load(target, 50, SECONDS, () => 'dev', '/deploys', /blocks/);
      for (let i = 1; i <= 1000; i++) {
        await store.appendLog({ deployId: `h${i}`, env: ['dev', 'staging', 'production'][i % 3] as string, version: `v0.${i}.0`, ref: `v0.${i}.0`, deployedBy: 'U0ALICE', status: 'succeeded', at: Date.now(), notes: [] });
      }
      const after = await load(target, 50, SECONDS, () => 'dev', '/deploys', /blocks/);
      client.disconnect();
      await target.stop();
      const f = floorAt.get(50) as Load;
      rows.push({ case: '/deploys dev · 50 conn, empty log', metric: 'req/s', shipmate: before.rps, baseline: f.rps, ratio: ratio(before.rps, f.rps), target: '≥ 0.5', note: `p99 ${before.p99} ms` });
      rows.push({ case: '/deploys dev · 50 conn, 1,000 in log', metric: 'req/s', shipmate: after.rps, baseline: f.rps, ratio: ratio(after.rps, f.rps), target: '≥ 0.5, flat', note: `p99 ${after.p99} ms; ${Math.round((after.rps / before.rps) * 100)} % of the empty-log rate` });
      return rows;
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
