// The masker on its own: the forms a secret takes on its way out (as written, JSON-escaped, URL-encoded),
// request bodies as Slack's clients send them, and log lines from a logger and its children.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLogMasker } from '../../src/core/logger.js';
import { createMasker, maskingFetch } from '../../src/core/mask.js';
import { memoryLog } from '../helpers/harness.js';

const SECRET = 'pa"ss word/+9';
const mask = createMasker(['DB_PASSWORD'], { DB_PASSWORD: SECRET, SLACK_BOT_TOKEN: 'xoxb-1-2-3', SHORT: 'ab' }, ['signing-secret-x']);

let server: Server;
let url: string;
const received: Array<{ type: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ type: req.headers['content-type'] ?? '', body });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('masking', () => {
  it('masks a secret as written, JSON-escaped and URL-encoded, and the extra values it was given', () => {
    expect(mask(`with ${SECRET} and xoxb-1-2-3 and signing-secret-x`)).toBe('with •••••• and •••••• and ••••••');
    expect(mask(JSON.stringify({ line: `x ${SECRET} y` }))).toBe('{"line":"x •••••• y"}');
    expect(mask(`?t=${encodeURIComponent(SECRET)}&u=${new URLSearchParams({ v: SECRET }).toString().slice(2)}`)).toBe('?t=••••••&u=••••••');
    expect(mask('ab stays')).toBe('ab stays');
  });

  it('masks form and JSON request bodies before they leave, and leaves the token field alone', async () => {
    const fetch = maskingFetch(mask, globalThis.fetch);
    const form = new URLSearchParams({ token: 'xoxb-1-2-3', text: `deploying ${SECRET}`, blocks: JSON.stringify([{ text: SECRET }]) }).toString();
    await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form });
    await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: `reply ${SECRET}`, n: 1 }) });
    const [sentForm, sentJson] = received;
    const fields = Object.fromEntries(new URLSearchParams(sentForm?.body));
    expect(fields).toEqual({ token: 'xoxb-1-2-3', text: 'deploying ••••••', blocks: '[{"text":"••••••"}]' });
    expect(JSON.parse(sentJson?.body ?? '')).toEqual({ text: 'reply ••••••', n: 1 });
  });

  it('masks every log line, children included, once a masker is added', () => {
    const logs = memoryLog();
    const child = logs.log.child({ job: 'x' });
    addLogMasker(logs.log, mask);
    child.info({ detail: `got ${SECRET}` }, `said ${SECRET}`);
    expect(logs.raw()).not.toContain('word/+9');
    expect(logs.lines()[0]).toMatchObject({ detail: 'got ••••••', msg: 'said ••••••' });
  });
});
