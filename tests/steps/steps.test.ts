// The two step kinds on their own: a local command (argv, timeout, cancel, exit codes) and an HTTP check
// (status, JSON field, retries with delay) against a real local HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStep } from '../../src/steps/run-step.js';
import { parseConfig } from '../../src/core/config.js';
import { createMasker } from '../../src/core/mask.js';
import { runCommand } from '../../src/steps/run-command.js';

const vars = { env: 'staging', version: 'v1.2.3', ref: 'v1.2.3', user: 'U0ALICE', deployId: '7' };
let server: Server;
let base: string;
let flaky = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/healthy') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'healthy', build: { version: 'v1.2.3' } }));
    if (req.url === '/degraded') return void res.writeHead(200).end(JSON.stringify({ status: 'degraded' }));
    if (req.url === '/flaky') return void (flaky++ < 2 ? res.writeHead(503).end('warming up') : res.writeHead(200).end('{"status":"healthy"}'));
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('{}'), 2000);
    res.writeHead(404).end('nope');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

function step(yaml: string) {
  return parseConfig(`environments:\n  - name: staging\n    steps:\n      - ${yaml}\n`, 't.yml', {}).environments[0]!.steps[0]!;
}

describe('run steps', () => {
  it('passes arguments as argv with variables substituted — never through a shell', async () => {
    const out = await runStep(step(`{ name: x, run: [node, -e, "console.log(process.argv.slice(1).join('|'))", "{{version}}", "$(id) ; echo {{env}}", "{{user}}"] }`), vars, { PATH: process.env.PATH });
    expect(out.ok).toBe(true);
    expect(out.output).toContain('v1.2.3|$(id) ; echo staging|U0ALICE');
  });

  it('reports the exit code and keeps the output of a failing command', async () => {
    const out = await runStep(step(`{ name: x, run: [node, -e, "console.log('partial'); process.exit(4)"] }`), vars, { PATH: process.env.PATH });
    expect(out).toMatchObject({ ok: false, exitCode: 4, error: 'exit code 4' });
    expect(out.output).toContain('partial');
  });

  it('fails clearly when the command is not installed', async () => {
    const out = await runStep(step('{ name: x, run: [no-such-tool-here, deploy] }'), vars, { PATH: process.env.PATH });
    expect(out.ok).toBe(false);
    expect(`${out.error} ${out.output}`).toMatch(/no-such-tool-here|ENOENT|exit code 127/);
  });

  it('says so when the working directory does not exist (not "spawn … ENOENT")', async () => {
    const out = await runStep(step('{ name: x, run: [echo, hi], cwd: /no/such/checkout }'), vars, { PATH: process.env.PATH });
    expect(out.ok).toBe(false);
    expect(out.error).toBe('could not start echo: its working directory /no/such/checkout does not exist');
  });

  it('kills the whole process group at the timeout', async () => {
    const started = Date.now();
    const res = await runCommand(['sh', '-c', 'sleep 30 & sleep 30; wait'], { timeoutMs: 300 });
    expect(res.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops when its signal is aborted (cancel)', async () => {
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 200);
    const res = await runCommand(['sleep', '30'], { timeoutMs: 60_000, signal: ctrl.signal });
    expect(res.cancelled).toBe(true);
    expect(res.durationMs).toBeLessThan(5000);
  });

  it('masks secret values from config and tokens', () => {
    const mask = createMasker(['DB_PASSWORD'], { DB_PASSWORD: 'hunter2-very-secret', SLACK_BOT_TOKEN: 'xoxb-1-2-3', SHORT: 'ab' });
    expect(mask('connecting with hunter2-very-secret and xoxb-1-2-3')).toBe('connecting with •••••• and ••••••');
  });
});

describe('http steps', () => {
  it('checks the status and a JSON field', async () => {
    const ok = await runStep(step(`{ name: h, http: { url: "${base}/healthy", json: { path: build.version, equals: v1.2.3 } } }`), vars, {});
    expect(ok.ok).toBe(true);
    const bad = await runStep(step(`{ name: h, http: { url: "${base}/degraded", json: { path: status, equals: healthy } } }`), vars, {});
    expect(bad).toMatchObject({ ok: false, error: 'check failed after 1 attempt' });
    expect(bad.output).toContain('status is "degraded", expected "healthy"');
    const missing = await runStep(step(`{ name: h, http: { url: "${base}/nothing" } }`), vars, {});
    expect(missing.output).toContain('→ 404, expected 200');
  });

  it('retries with a delay until the service answers', async () => {
    const started = Date.now();
    const out = await runStep(step(`{ name: h, http: { url: "${base}/flaky", json: { path: status, equals: healthy }, retries: 3, retryDelay: 0.2 } }`), vars, {});
    expect(out.ok).toBe(true);
    expect(out.output.split('\n')).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('gives up after its timeout', async () => {
    const out = await runStep(step(`{ name: h, http: { url: "${base}/slow", timeout: 0.3 } }`), vars, {});
    expect(out.ok).toBe(false);
    expect(out.output).toContain('no answer within 300 ms');
  });
});
