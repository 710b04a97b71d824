// Deploy records go with their log entries when retention (`log: { keep, keepFor }`) drops them — except an unfinished
// one and those the environment runs now or /rollback may put back — at a bounded cost per append; on a real
// redis-server, with 2,000 deploys and keep 100, then /rollback and /deploys through the real bot.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { DeployStore, type DeployStatus } from '../../src/deploys/deploy-store.js';
import { clickInReply } from '../helpers/interactions.js';
import { deployIdFrom, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
let redis: Redis;
let url: string;
let seq = 0;

beforeAll(async () => {
  url = (await startRedis()).url;
  redis = new Redis(url);
});
afterAll(async () => {
  redis.disconnect();
  await stopRedis();
});

/** What a worker leaves behind for one finished deploy: its record, the environment's state when it succeeded, its log entry. */
async function finishedDeploy(store: DeployStore, env: string, i: number, status: DeployStatus, opts: { log?: boolean } = {}): Promise<string> {
  const at = T0 + i * MIN;
  const made = await store.createOnce({ env, ref: `v${i}`, version: `v${i}`, requestedBy: 'U0ALICE', channel: 'C0RELEASES', status: 'queued', steps: [], createdAt: at });
  if (!('created' in made)) throw new Error('not created');
  const id = made.created.id;
  await store.update(id, (r) => {
    r.status = status;
    r.finishedAt = at;
  });
  if (status === 'succeeded') await store.setEnvState({ env, version: `v${i}`, ref: `v${i}`, deployId: id, deployedBy: 'U0ALICE', at });
  if (opts.log !== false) await store.appendLog({ deployId: id, env, version: `v${i}`, ref: `v${i}`, deployedBy: 'U0ALICE', status, at, notes: [] });
  return id;
}

const records = async (prefix: string) => (await redis.keys(`${prefix}:deploy:*`)).length;

/** Commands Redis ran (scripts' inner calls included) while `fn` ran. */
async function commandsDuring(fn: () => Promise<unknown>): Promise<number> {
  const total = async () => [...(await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter((m) => m[1] !== 'info').reduce((n, m) => n + Number(m[2]), 0);
  const before = await total();
  await fn();
  return (await total()) - before;
}

describe('deploy records and log retention', () => {
  it('drops records past retention with their entries, keeps running, current and rollback targets until they are neither', async () => {
    const prefix = `ret${++seq}`;
    const now = T0 + 3000 * MIN;
    const store = new DeployStore(redis, prefix, () => now, undefined, { keep: 100, maxAgeMs: 365 * 24 * 60 * MIN });
    // #1 still runs (its entry written by a hand-back, say); #2 is what the environment runs; #3 is in its good history.
    const running = await finishedDeploy(store, 'web', 0, 'succeeded', { log: false });
    await redis.set(`${prefix}:deploy:${running}`, JSON.stringify({ ...(await store.get(running)), status: 'running' }));
    await store.appendLog({ deployId: running, env: 'web', version: 'v0', ref: 'v0', deployedBy: 'U0ALICE', status: 'interrupted', at: T0, notes: [] });
    const target = await finishedDeploy(store, 'web', 1, 'succeeded');
    const current = await finishedDeploy(store, 'web', 2, 'succeeded');
    for (let i = 3; i < 2000; i++) await finishedDeploy(store, 'web', i, i % 5 === 0 ? 'failed' : 'cancelled');
    // Nothing succeeded since: #2 is still current, #3 the good version before it.
    expect((await store.envState('web'))?.deployId).toBe(current);
    expect(await store.get(running)).toBeDefined();
    expect(await store.get(target)).toBeDefined();
    expect(await store.get(current)).toBeDefined();
    expect(await store.get('4')).toBeUndefined();
    expect(await store.get('1900')).toBeUndefined();
    expect(await store.get('1901')).toBeDefined();
    expect(await records(prefix)).toBe(103);
    expect((await store.logSince('web', 0)).map((e) => e.deployId)).toEqual(Array.from({ length: 100 }, (_, i) => String(1901 + i)));
    // A hundred successes later #2 and #3 are neither current nor in the good history; #1 has finished: a few appends drop them.
    await store.update(running, (r) => void (r.status = 'interrupted'));
    for (let i = 2000; i < 2110; i++) await finishedDeploy(store, 'web', i, 'succeeded');
    expect(await store.get(running)).toBeUndefined();
    expect(await store.get(target)).toBeUndefined();
    expect(await store.get(current)).toBeUndefined();
    // The 100 good versions in the history are kept; the rest of the 2,110 are gone.
    expect(await records(prefix)).toBeLessThanOrEqual(110);
    expect(await redis.zcard(`${prefix}:log:retained:web`)).toBeLessThanOrEqual(10);
    // One append's cost does not grow with the log: a few hundred commands at most (100 history entries read included).
    expect(await commandsDuring(() => finishedDeploy(store, 'web', 2200, 'failed'))).toBeLessThan(300);
  }, 120_000);
});

describe('/rollback and /deploys after 2,000 deploys with keep 100', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot({
      redisUrl: url,
      configYaml: `
roles:
  deployers: { users: [U0ALICE, U0BOB] }
log: { keep: 100, keepFor: 400d }
environments:
  - name: web
    deployers: [deployers]
    steps:
      - name: Deploy
        run: [node, -e, "0"]
`,
    });
  });
  afterAll(async () => bot?.stop());

  it('rolls back to the previous good version and shows the environment, records beyond retention gone', async () => {
    const store = bot.shipmate.deps.store;
    let good = '';
    for (let i = 0; i < 2000; i++) {
      const id = await finishedDeploy(store, 'web', Date.now() / MIN - 3000 + i, i % 3 === 0 ? 'succeeded' : 'failed');
      if (i % 3 === 0) good = id;
    }
    expect(await store.get('1')).toBeUndefined();
    expect(await store.get(good)).toBeDefined();
    const prefix = store.prefix;
    expect(await records(prefix)).toBeLessThanOrEqual(200); // 100 kept entries + at most 100 good versions of the history
    // A real deploy through the worker, then /rollback puts the good version before it back.
    const res = await bot.command('/deploy', 'web v-new', 'U0ALICE');
    expect((await waitForEnd(bot, deployIdFrom(res.json.text ?? ''))).status).toBe('succeeded');
    const ask = await bot.command('/rollback', 'web', 'U0BOB');
    expect(JSON.stringify(ask.json)).toContain('Roll back');
    const before = bot.slack.ephemerals('U0BOB').length;
    await clickInReply(bot, ask.json, ACTIONS.rollbackConfirm, 'U0BOB');
    const answer = await eventually(() => bot.slack.ephemerals('U0BOB').slice(before).find((m) => (m.text ?? '').includes('Rolling ')), 5_000, 'the rollback answer');
    const back = await waitForEnd(bot, deployIdFrom(answer.text ?? ''));
    expect(back).toMatchObject({ status: 'succeeded', kind: 'rollback', version: (await store.get(good))!.version });
    const overview = await bot.command('/deploys', 'web', 'U0ALICE');
    expect(JSON.stringify(overview.json)).toContain(`\`${back.version}\``);
  }, 180_000);
});
