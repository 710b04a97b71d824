// Start-up and ops: an invalid config stops the process with the bad field's path; with no REDIS_URL an
// embedded redis-server keeps data on disk (AOF); /healthz says 503 when Redis is gone; SIGTERM exits cleanly.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startEmbeddedRedis } from '../../src/core/redis.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { BOT_TOKEN, SIGNING_SECRET, eventually, startTestBot } from '../helpers/harness.js';

function runMain(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, exited, output: () => out };
}

describe('start-up', () => {
  it('an invalid config stops the process with the path of the bad field and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-bad-'));
    const file = join(dir, 'shipmate.yml');
    writeFileSync(file, 'environments:\n  - name: prod\n    steps:\n      - { name: x, run: [true], timeout: soon }\n');
    const main = runMain({ SHIPMATE_CONFIG: file, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET });
    expect(await main.exited).toBe(2);
    expect(main.output()).toContain(`Invalid config ${file}`);
    expect(main.output()).toContain('environments.0.steps.0.timeout: "soon" is not a duration');
  });

  it('a config that can never work stops start-up too: a prototype role name, a promotion cycle, a 30d timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-never-'));
    const file = join(dir, 'shipmate.yml');
    writeFileSync(file, 'environments:\n  - name: prod\n    deployers: [constructor]\n    requires: { succeededOn: prod }\n    steps:\n      - { name: x, run: [sleep, 3], timeout: 30d }\n');
    const main = runMain({ SHIPMATE_CONFIG: file, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET });
    expect(await main.exited).toBe(2);
    expect(main.output()).toContain('environments.0.deployers.0: role "constructor" is not defined under roles');
    expect(main.output()).toContain('environments.0.requires.succeededOn: "prod" requires itself');
    expect(main.output()).toContain('environments.0.steps.0.timeout: 30 days is too long: use at most 1 day');
  });

  it('--role must be app, worker or all', async () => {
    const main = runMain({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, REDIS_URL: 'redis://127.0.0.1:1' }, ['--role', 'boss']);
    expect(await main.exited).toBe(1);
    expect(main.output()).toContain('--role must be app, worker or all (got boss)');
  });

  it('without REDIS_URL it runs its own redis-server with data on disk, answers /healthz, and stops on SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'shipmate-data-'));
    const dir = mkdtempSync(join(tmpdir(), 'shipmate-cfg-'));
    writeFileSync(join(dir, 'shipmate.yml'), PIPELINE_YAML);
    const port = await freePort();
    const main = runMain({ SHIPMATE_CONFIG: join(dir, 'shipmate.yml'), SHIPMATE_DATA_DIR: data, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: 'http://127.0.0.1:9/api/', PORT: String(port), HOST: '127.0.0.1' });
    const health = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return res?.status === 200 ? ((await res.json()) as { ok: boolean; redis: string }) : undefined;
    }, 20_000, `/healthz (output: ${main.output()})`);
    expect(health).toMatchObject({ ok: true, redis: 'reachable' });
    expect(existsSync(join(data, 'redis'))).toBe(true);
    // with Slack credentials nothing of the playground starts: no page, no stand-in API
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/api/state`)).status).toBe(404);
    expect(main.output()).not.toContain('playground');
    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
    expect(readdirSync(join(data, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
  }, 40_000);
});

describe('/healthz', () => {
  it('answers 503 when Redis is unreachable', async () => {
    const redis = await startEmbeddedRedis({ dir: mkdtempSync(join(tmpdir(), 'shipmate-r-')) });
    const bot = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl: redis.url, role: 'app' });
    const base = bot.url.replace('/slack/events', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await redis.stop();
    const res = await eventually(async () => {
      const r = await fetch(`${base}/healthz`);
      return r.status === 503 ? r : undefined;
    }, 10_000, '503');
    expect(await res.json()).toMatchObject({ ok: false, redis: 'unreachable' });
    bot.shipmate.deps.redis.disconnect();
    await Promise.race([bot.stop().catch(() => undefined), new Promise((ok) => setTimeout(ok, 3000))]);
  }, 30_000);
});
