// Defect 5 (issue 8): every command is answered within Slack's 3 s whatever Redis and Slack do, and a
// request refused for that reason leaves nothing behind — not now, and not once Redis or Slack recover.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/core/redis.js';
import { startSlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, deployIdFrom, eventually, startTestBot, waitForEnd } from '../helpers/harness.js';

const YAML = `
roles:
  deployers: { groups: [S0DEPLOY] }
environments:
  - name: staging
    steps:
      - { name: Deploy, run: [node, -e, "console.log('staging up')"] }
  - name: production
    aliases: [prod]
    deployers: [deployers]
    steps:
      - { name: Deploy, run: [node, -e, "console.log('production up')"] }
`;

let dir: string;
let redis: EmbeddedRedis;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipmate-faults-'));
  redis = await startEmbeddedRedis({ dir });
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every key under the bot's prefix (SCAN, as an operator would look). */
async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** Keys that would mean a deploy exists: its record, its id counter, or its BullMQ job. */
const deployTraces = (keys: string[], prefix: string) =>
  keys.filter((k) => k === `${prefix}:seq:deploy` || /:deploy:\d+$/.test(k) || /:deploy\.[^:]+:deploy-\d+$/.test(k) || /:gates:checks-/.test(k));

describe('with a cold user-group cache and usergroups.users.list answering 429', () => {
  it('acks within 3 s, refuses clearly, and creates nothing then or once the group loads', async () => {
    const slack = await startSlackStandin({ token: BOT_TOKEN, usergroups: [{ id: 'S0DEPLOY', handle: 'deployers', users: ['U0GROUPIE'] }] });
    // The start-up warm-up and a second lookup both get 429 "retry after 3 s": the cache stays cold for ~6 s.
    slack.failNext('usergroups.users.list', { status: 429, retryAfter: 3 }, 2);
    const bot = await startTestBot({ configYaml: YAML, redisUrl: redis.url, slack });
    try {
      const res = await bot.command('/deploy', 'prod v1.0.0', 'U0GROUPIE');
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(3_000);
      expect(res.json?.text).toMatch(/couldn’t check your user-group membership yet.*nothing was created/);

      await eventually(() => slack.callsTo('usergroups.users.list').some((c) => c.response.ok), 15_000, 'the group to load');
      await new Promise((ok) => setTimeout(ok, 500));
      expect(deployTraces(await keysUnder(bot.shipmate.deps.redis, bot.prefix), bot.prefix)).toEqual([]);

      // Once the group is known, the same person is answered from the cache.
      const again = await bot.command('/deploy', 'prod v1.0.0', 'U0GROUPIE');
      expect(again.ms).toBeLessThan(1_000);
      expect(deployIdFrom(again.json.text)).toBe('1'); // the refused request did not even take a number
      expect((await waitForEnd(bot, '1')).status).toBe('succeeded');
    } finally {
      await bot.stop();
      await slack.close();
    }
  }, 30_000);
});

describe('with redis-server stopped', () => {
  it('answers every command within 3 s saying nothing was queued, and nothing is created when Redis comes back', async () => {
    const bot = await startTestBot({ configYaml: YAML, redisUrl: redis.url });
    try {
      await redis.stop();
      for (const [command, text] of [['/deploy', 'staging v2.0.0'], ['/rollback', 'staging'], ['/deploys', '']] as const) {
        const res = await bot.command(command, text);
        expect(res.status, command).toBe(200);
        expect(res.ms, command).toBeLessThan(3_000);
        expect(res.json?.text, command).toMatch(/can’t reach its database right now; nothing was queued — try again/);
      }

      redis = await startEmbeddedRedis({ dir, port: redis.port });
      await eventually(() => bot.shipmate.deps.redis.status === 'ready', 10_000, 'the workers’ connection to come back');
      await new Promise((ok) => setTimeout(ok, 1_500)); // time for anything queued offline to be replayed
      expect(deployTraces(await keysUnder(bot.shipmate.deps.redis, bot.prefix), bot.prefix)).toEqual([]);

      // The request path reconnects by itself: the next request goes through.
      const ok = await eventually(async () => {
        const res = await bot.command('/deploy', 'staging v2.0.0');
        return /Deploying/.test(res.json?.text ?? '') && res;
      }, 10_000, 'a deploy to be accepted again');
      expect(deployIdFrom(ok.json.text)).toBe('1');
      expect((await waitForEnd(bot, '1')).status).toBe('succeeded');
    } finally {
      await bot.stop();
    }
  }, 30_000);
});

describe('with redis-server frozen (SIGSTOP) while a deploy is being recorded', () => {
  it('answers within 3 s that nothing was queued, and the write Redis runs once it thaws changes nothing', async () => {
    const bot = await startTestBot({ configYaml: YAML, redisUrl: redis.url });
    try {
      const first = deployIdFrom((await bot.command('/deploy', 'staging v5.0.0')).json.text);
      await waitForEnd(bot, first);
      redis.process.kill('SIGSTOP');
      let res;
      try {
        res = await bot.command('/deploy', 'staging v5.1.0');
      } finally {
        redis.process.kill('SIGCONT');
      }
      expect(res.ms).toBeLessThan(3_000);
      expect(res.json?.text).toMatch(/nothing was queued/);
      await new Promise((ok) => setTimeout(ok, 1_500));
      const keys = await keysUnder(bot.shipmate.deps.redis, bot.prefix);
      expect(deployTraces(keys, bot.prefix).filter((k) => !k.endsWith(`:deploy:${first}`) && !k.endsWith(`deploy-${first}`))).toEqual([`${bot.prefix}:seq:deploy`]);
      expect(await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`)).toBe(first);
    } finally {
      await bot.stop();
    }
  }, 30_000);
});

