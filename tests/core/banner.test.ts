// `npm start` says first, in plain words, where to open Shipmate, which config it loaded, where Redis keeps its data
// and how to stop; the log lines written meanwhile follow it (JSON when stdout is not a terminal).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bannerLines, startupOutput } from '../../src/core/banner.js';
import { readEnvOptions } from '../../src/core/env.js';
import { createLogger } from '../../src/core/logger.js';
import { freePort } from '../../src/core/redis.js';
import { eventually } from '../helpers/harness.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('start-up banner', () => {
  it('holds the log lines written while starting until the banner is out, then passes them through', () => {
    const out = sink();
    const { log, ready } = startupOutput(readEnvOptions({}), out.stream);
    log.info({ port: 41234 }, 'embedded redis started');
    expect(out.text()).toBe('');
    ready({ playground: 'http://localhost:3000/' });
    log.info('after');
    const text = out.text();
    expect(text.indexOf('Shipmate is running in playground mode')).toBeLessThan(text.indexOf('embedded redis started'));
    const json = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
    expect(json.map((l) => l.msg)).toEqual(['embedded redis started', 'after']);
  });

  it('pretty-prints on a terminal (pino-pretty), still redacting tokens', () => {
    const out = sink();
    createLogger({ destination: out.stream, pretty: true }).info({ token: 'xoxb-secret-1', deployId: '7' }, 'deploy queued');
    const text = stripVTControlCharacters(out.text());
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: deploy queued\n/);
    expect(text).toContain('deployId: "7"');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('xoxb-secret-1');
  });

  it('says against Slack how requests reach it, and hides a Redis password', () => {
    const text = bannerLines(readEnvOptions({ REDIS_URL: 'redis://:hunter2@redis.internal:6379/0', SHIPMATE_CONFIG: 'examples/ontos.yml' }), { slack: 'http', port: 3000, role: 'all' }, '/srv/shipmate').join('\n');
    expect(text).toContain('Shipmate is running against Slack.');
    expect(text).toContain('path /slack/events');
    expect(text).toContain('Config  /srv/shipmate/examples/ontos.yml');
    expect(text).toContain('redis://:***@redis.internal:6379/0');
    expect(text).not.toContain('hunter2');
    expect(text).not.toMatch(/playground/i);
    expect(bannerLines(readEnvOptions({}), { slack: 'socket', port: 3000, role: 'all' }).join('\n')).toContain('Socket Mode');
  });

  it('`npm start` without Slack credentials: the first lines say where to open the playground, the config, the Redis data and how to stop', async () => {
    const data = mkdtempSync(join(tmpdir(), 'shipmate-banner-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, PORT: String(port), SHIPMATE_DATA_DIR: data, SHIPMATE_PREFIX: `banner${process.pid}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((ok) => child.once('exit', ok));
    try {
      await eventually(() => out.includes('Log lines follow.') && out.includes('"msg":"shipmate started"'), 20_000, `the banner (output: ${out})`);
      const lines = out.split('\n');
      expect(lines.slice(0, 9).join('\n')).toBe([
        '',
        'Shipmate is running in playground mode (no Slack credentials are set).',
        '',
        `  Open    http://localhost:${port}/ in your browser: a stand-in for Slack with demo users. Type /shipmate there.`,
        '  Slack   set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see the README) to run in a real workspace instead.',
        `  Config  ${resolve('shipmate.yml')}`,
        `  Redis   a redis-server Shipmate runs itself; its data stays in ${join(data, 'redis')} between runs`,
        '  Stop    Ctrl+C (or SIGTERM). A running deploy stops at its next step and resumes there on the next start.',
        '',
      ].join('\n'));
      // the JSON log lines come after it, for ops (stdout is a pipe here, not a terminal)
      const json = lines.slice(9).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
      expect(json.map((l) => l.msg)).toContain('embedded redis started (set REDIS_URL to use your own)');
      expect(lines.slice(0, 9).some((l) => l.startsWith('{'))).toBe(false);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 40_000);
});
