// Redis' clock offset, against a real redis-server: a measurement whose answer was read late (the event loop
// blocked, as at start-up) must not be kept — kept, it shifted every later deadline and refused each /deploy
// as "redis ran the deploy record too late" (seen as a flaky tests/integration/github.test.ts).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisClock } from '../../src/core/redis.js';
import { startRedis, stopRedis } from '../helpers/harness.js';

let redis: Redis;
beforeAll(async () => {
  const server = await startRedis();
  redis = new Redis(server.url, { lazyConnect: false });
  await redis.ping();
});
afterAll(async () => {
  redis.disconnect();
  await stopRedis();
});

function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: the answer to TIME waits in the socket meanwhile
  }
}

describe('RedisClock', () => {
  it('does not keep an offset measured with a slow round trip, and keeps one measured quickly', async () => {
    const clock = new RedisClock(redis);
    const slow = clock.offsetMs();
    blockFor(400);
    // Same machine, same clock: the true offset is about 0. The midpoint errs by at most half the round trip.
    expect(Math.abs(await slow)).toBeLessThan(250);
    const again = clock.offsetMs();
    expect(again).not.toBe(slow);
    expect(Math.abs(await again)).toBeLessThan(25);
    expect(clock.offsetMs()).toBe(again);
  });
});
