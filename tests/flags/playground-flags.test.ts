// The playground shows flags: /flag typed on the page changes what its Flags list (GET /api/flags) says.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlayground, type Playground } from '../../playground/start.js';
import { parseConfig } from '../../src/core/config.js';
import { eventually, memoryLog, startRedis, stopRedis } from '../helpers/harness.js';
import { FLAGS_YAML, FLAG_ENV } from './config.js';

let pg: Playground;

beforeAll(async () => {
  pg = await createPlayground({
    config: parseConfig(FLAGS_YAML, 'test.yml', FLAG_ENV),
    redisUrl: (await startRedis()).url,
    log: memoryLog().log,
    port: 0,
    prefix: `pgf${process.pid}x${Date.now().toString(36)}`,
    env: { PATH: process.env.PATH, ...FLAG_ENV },
    worker: { lockDuration: 3_000, stalledInterval: 1_000 },
  });
});
afterAll(async () => {
  await pg?.stop();
  await stopRedis();
});

async function api(path: string, body?: unknown): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(new URL(path, pg.url), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

describe('playground flags', () => {
  it('lists flags and their state per environment as /flag changes them', async () => {
    expect((await api('/api/flags')).flags).toEqual([]);
    const user = pg.users[0]?.id;
    await api('/api/command', { user, channel: 'C0RELEASES', text: '/flag create new_query_ui experiment "New query UI"' });
    await api('/api/command', { user, channel: 'C0RELEASES', text: '/flag new_query_ui 25% staging' });
    const flags = await eventually(async () => {
      const f = (await api('/api/flags')).flags as Array<{ key: string; states: Array<{ env: string; state: string }> }>;
      return f[0]?.states.find((s) => s.env === 'staging')?.state === '25%' ? f : undefined;
    }, 5_000, 'the flag at 25% in staging');
    expect(flags[0]).toMatchObject({ key: 'new_query_ui', type: 'experiment', states: [{ env: 'dev', state: 'off' }, { env: 'staging', state: '25%' }, { env: 'production', state: 'off' }] });
  });

  it.skipIf(!existsSync('/usr/bin/chromium'))('shows them in the page’s sidebar, live', async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(pg.url);
      const item = page.getByTestId('flag-new_query_ui');
      await item.waitFor({ timeout: 10_000 });
      expect(await item.textContent()).toContain('staging: 25%');
      await api('/api/command', { user: pg.users[0]?.id, channel: 'C0RELEASES', text: '/flag new_query_ui on dev' });
      await page.getByTestId('flag-new_query_ui').filter({ hasText: 'dev: on' }).waitFor({ timeout: 10_000 });
    } finally {
      await browser.close();
    }
  }, 30_000);
});
