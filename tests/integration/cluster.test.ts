// Shipmate on a Redis Cluster (three local masters), changed in nothing but REDIS_URL: a /deploy goes from the
// signed request through its steps to the status message and the deployment log, a second deploy with the same
// version is refused as a duplicate (CREATE_ONCE's multi-key script), and every key Shipmate wrote sits in the
// one slot of its hash-tagged prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefixFor, redisTarget } from '../../src/core/redis.js';
import { readDeployAudit } from '../../src/deploys/deploy-store.js';
import { CHANNEL, allText, deployIdFrom, eventually, startTestBot, waitForEnd, type TestBot } from '../helpers/harness.js';
import { startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';

const YAML = `
roles:
  deployers: { users: [U0ALICE] }
channels:
  deployLog: C0DEPLOYLOG
environments:
  - name: dev
    steps:
      - { name: Build, run: [node, -e, "console.log('built ' + process.argv[1])", "{{version}}"] }
      - { name: Release, run: [node, -e, "setTimeout(() => console.log('released'), 100)"] }
`;

let cluster: LocalCluster;
let bot: TestBot;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  bot = await startTestBot({ configYaml: YAML, redisUrl: cluster.url, prefix: `c${process.pid}` });
}, 30_000);
afterAll(async () => {
  await bot?.stop();
  await cluster?.stop();
});

describe('REDIS_URL naming a cluster or a sentinel set', () => {
  it('parses nodes, credentials and the master name; hash-tags the prefix only for a cluster', () => {
    expect(redisTarget('redis://127.0.0.1:6379')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(redisTarget('redis-cluster://:pw@10.0.0.1:7000,10.0.0.2:7001')).toEqual({ kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], password: 'pw' });
    expect(redisTarget('redis-sentinel://s1:26379,s2/mymaster')).toEqual({ kind: 'sentinel', nodes: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'mymaster' });
    expect(() => redisTarget('redis-sentinel://s1:26379')).toThrow(/master name/);
    expect(keyPrefixFor('redis-cluster://h:1', 'shipmate')).toBe('{shipmate}');
    expect(keyPrefixFor('redis-cluster://h:1', '{team}')).toBe('{team}');
    expect(keyPrefixFor('redis://h:1', 'shipmate')).toBe('shipmate');
  });
});

describe('a deploy on a three-master Redis Cluster', () => {
  it('runs end to end: ack, steps, status message, thread output, log entry, audit', async () => {
    const { deps } = bot.shipmate;
    expect(deps.prefix).toBe(`{c${process.pid}}`);
    const res = await bot.command('/deploy', 'dev v2.0.0');
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    const id = deployIdFrom(res.json.text);

    const done = await waitForEnd(bot, id, 20_000);
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => s.status)).toEqual(['passed', 'passed']);
    const status = await eventually(() => { const m = bot.statusMessage(id); return m && allText(m).includes('Succeeded') ? m : undefined; }, 10_000, 'status message Succeeded');
    const thread = bot.slack.thread(CHANNEL, status.ts).slice(1);
    expect(thread.map(allText).join('\n')).toContain('built v2.0.0');
    const log = await eventually(() => { const m = bot.slack.messages('C0DEPLOYLOG'); return m.length ? m : undefined; }, 10_000, 'log entry');
    expect(allText(log[0]!)).toContain('v2.0.0');
    expect((await deps.store.recentLog(5, 'dev')).map((e) => e.deployId)).toEqual([id]);
    expect((await readDeployAudit(deps.redis, deps.prefix, id)).length).toBeGreaterThan(0);
    expect((await deps.store.envState('dev'))?.version).toBe('v2.0.0');
  });

  it('refuses a duplicate request through the multi-key create script, and keeps every key in one slot', async () => {
    const { deps } = bot.shipmate;
    const env = deps.config.environments[0]!;
    // Two requests for one version at once: the create script sees the first and names it.
    const outcomes = await Promise.all([1, 2].map(() => deps.deploys.request({ env, ref: 'v3.0.0', user: 'U0ALICE', channel: CHANNEL })));
    expect(outcomes.filter((o) => o.existing)).toHaveLength(1);
    const created = outcomes.find((o) => !o.existing) as { record: { id: string } };
    expect((await waitForEnd(bot, created.record.id, 20_000)).status).toBe('succeeded');

    // Every key under the prefix, on whichever master holds it, hashes to the prefix's slot.
    const slots = new Set<number>();
    let keys = 0;
    for (const node of cluster.nodes) {
      for (const key of await node.keys(`${deps.prefix}*`)) {
        keys++;
        slots.add(Number(await node.call('CLUSTER', 'KEYSLOT', key)));
      }
    }
    expect(keys).toBeGreaterThan(10);
    expect(slots.size).toBe(1);
  });
});
