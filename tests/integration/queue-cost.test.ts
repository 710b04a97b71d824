// Cost that does not grow with the queue: with N deploys queued on one environment, a deploy finishing and the next
// starting costs a bounded number of Slack calls (the stand-in's call log) and Redis commands (INFO commandstats),
// the same for N=5 and N=50; queue positions are unique under concurrent requests.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestOutcome } from '../../src/deploys/deploy-service.js';
import type { DeployRecord } from '../../src/deploys/deploy-store.js';
import { CHANNEL, allText, eventually, startRedis, startTestBot, stopRedis } from '../helpers/harness.js';

const YAML = `
roles:
  deployers: { users: [U0ALICE] }
environments:
  - name: line
    steps:
      - { name: Hold, run: [sleep, "30"] }
`;

let redisUrl: string;
beforeAll(async () => {
  redisUrl = (await startRedis()).url;
});
afterAll(async () => {
  await stopRedis();
});

/** A request that created a deploy (never a repeat here). */
function created(o: RequestOutcome): { record: DeployRecord; position: number } {
  if ('existing' in o) throw new Error('unexpected repeat');
  return o;
}

async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

/** Queues `n` deploys behind a running one, then measures what #1 finishing and #2 starting costs. */
async function measure(n: number): Promise<{ slack: number; redis: number; positions: number[] }> {
  const bot = await startTestBot({ configYaml: YAML, redisUrl });
  const probe = new Redis(redisUrl);
  try {
    const { deps } = bot.shipmate;
    const env = deps.config.environments[0]!;
    const first = created(await deps.deploys.request({ env, ref: 'v0', user: 'U0ALICE', channel: CHANNEL }));
    await deps.messenger.sync(first.record.id);
    await eventually(async () => (await deps.store.get('1'))?.status === 'running', 10_000, '#1 running');
    // Concurrent requests: each gets its own place in line.
    const outcomes = (await Promise.all(Array.from({ length: n }, (_, i) => deps.deploys.request({ env, ref: `v${i + 1}`, user: 'U0ALICE', channel: CHANNEL })))).map(created);
    const positions = outcomes.map((o) => o.position);
    for (const o of outcomes) await deps.messenger.sync(o.record.id);
    await eventually(() => bot.slack.messages(CHANNEL).filter((m) => !m.thread_ts).length === n + 1, 20_000, 'every status message');
    await new Promise((ok) => setTimeout(ok, 500));

    const slackBefore = bot.slack.calls.length;
    const redisBefore = await redisCommands(probe);
    await deps.deploys.cancel('1', 'U0ALICE');
    await eventually(() => { const m = bot.statusMessage('2'); return m && allText(m).includes('Running'); }, 10_000, '#2 to start');
    await new Promise((ok) => setTimeout(ok, 1_000));
    const slack = bot.slack.calls.length - slackBefore;
    const redis = (await redisCommands(probe)) - redisBefore;
    // the deploy now third in line says so
    await eventually(() => { const m = bot.statusMessage('4'); return m && allText(m).includes('position 3'); }, 5_000, '#4 at position 3');
    // End quickly: drop the waiting deploys and stop the running one (its step sleeps for 30 s).
    await deps.queues.queue('line').drain();
    await deps.deploys.cancel('2', 'U0ALICE');
    await eventually(async () => (await deps.store.get('2'))?.status === 'cancelled', 10_000, '#2 stopped');
    return { slack, redis, positions };
  } finally {
    await bot.stop();
    probe.disconnect();
  }
}

describe('cost of a start and a finish', () => {
  it('does not grow with the queue (N=5 vs N=50), and positions are unique', async () => {
    const small = await measure(5);
    const large = await measure(50);
    console.info(`start+finish: N=5 ${small.slack} Slack calls, ${small.redis} Redis commands; N=50 ${large.slack} Slack calls, ${large.redis} Redis commands`);
    expect(new Set(large.positions).size).toBe(50);
    expect([...large.positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(large.slack).toBeLessThanOrEqual(15);
    expect(large.slack).toBeLessThanOrEqual(small.slack + 3);
    // Redis also carries the workers' own polling over the same window: allow that, not anything per queued deploy.
    expect(large.redis).toBeLessThan(small.redis * 1.5 + 100);
  }, 90_000);
});
