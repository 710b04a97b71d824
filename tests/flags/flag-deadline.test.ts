// /flag within the command's commit deadline, on the real redis-server made slow with CLIENT PAUSE: a change
// whose write Redis holds past its validity is not made (the person is told at once that it is unconfirmed,
// then that it did not happen); a short stall inside the deadline is answered normally and applied once; a
// change Redis did not confirm is looked up afterwards and announced exactly once. Also: a flag change while
// Slack is down is applied, audited, and its channel post delivered once when Slack is back.
import { beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { CHANNEL, eventually, type TestBot, useTestBot } from '../helpers/harness.js';
import { FLAGS_YAML, FLAG_ENV } from './config.js';

const useBot = useTestBot({ configYaml: FLAGS_YAML, env: FLAG_ENV });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const say = async (text: string, user = 'U0ALICE') => (await bot.command('/flag', text, user)).json as { text: string };
const flag = (key: string) => bot.shipmate.deps.flags.flags.get(key);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
/** Holds every write (and script) on the real server for `ms`; reads go on. */
const pauseWrites = (ms: number) => bot.shipmate.deps.redis.call('CLIENT', 'PAUSE', String(ms), 'WRITE');
const announcements = (key: string, env: string) => bot.slack.messages('C0DEPLOYLOG').filter((m) => (m.text ?? '').includes(`Flag ${key} in ${env}`));

describe('/flag and the commit deadline', () => {
  it('does not make a change Redis holds past the deadline: says so at once, then that it did not happen', async () => {
    await say('create slow_write experiment "Slow write"');
    await pauseWrites(1_500);
    const started = Date.now();
    const res = await bot.command('/flag', 'slow_write on staging', 'U0ALICE');
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(res.json.text).toContain('did not confirm the change of `slow_write` in staging in time');
    await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => (m.text ?? '').includes('`slow_write` was *not* changed in staging')), 8_000, 'the outcome told later');
    // The held write ran once the pause ended, and wrote nothing: it came too late.
    await sleep(Math.max(0, started + 1_700 - Date.now()));
    expect((await flag('slow_write'))?.envs.staging).toBeUndefined();
    expect((await bot.shipmate.deps.flags.flags.history('slow_write')).map((h) => h.action)).toEqual(['create']);
    expect(announcements('slow_write', 'staging')).toEqual([]);
    // Nothing else was said that would contradict it.
    expect(bot.slack.ephemerals('U0ALICE').filter((m) => (m.text ?? '').includes('took effect after all'))).toEqual([]);
  });

  it('answers a stall inside the deadline normally, and applies the change once', async () => {
    await say('create short_stall experiment "Short stall"');
    await pauseWrites(150);
    const res = await say('short_stall on staging');
    expect(res.text).toContain('`short_stall` in staging: off → *on*');
    expect((await flag('short_stall'))?.envs.staging?.enabled).toBe(true);
    await eventually(() => announcements('short_stall', 'staging').length === 1, 5_000, 'the announcement');
    expect((await bot.shipmate.deps.flags.flags.history('short_stall')).filter((h) => h.action === 'change')).toHaveLength(1);
  });

  it('refuses at once while Redis does not answer at all, and changes nothing', async () => {
    await say('create all_paused experiment "All paused"');
    await bot.shipmate.deps.redis.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const res = await say('all_paused on staging');
    expect(res.text).toMatch(/can’t reach its database|did not confirm/);
    await sleep(1_200);
    expect((await flag('all_paused'))?.envs.staging).toBeUndefined();
  });

  it('confirms a change Redis made after all, and announces it once', async () => {
    await say('create made_late experiment "Made late"');
    const flags = bot.shipmate.deps.flags;
    // The write happened (as when its answer was lost), announced by the original request or not.
    await flags.change({ key: 'made_late', env: 'staging', user: 'U0ALICE', change: { kind: 'on' }, channel: CHANNEL, changeId: 'c-1' });
    const outcome = await flags.confirm('made_late', 'staging', 'c-1', Date.now(), CHANNEL, 2_000);
    expect(outcome?.applied).toMatchObject({ id: 'c-1', before: 'off', after: 'on' });
    expect(await flags.confirm('made_late', 'staging', 'c-2', Date.now(), CHANNEL, 2_000)).toEqual({});
    await eventually(() => announcements('made_late', 'staging').length === 1, 5_000, 'the announcement');
    await sleep(300);
    expect(announcements('made_late', 'staging')).toHaveLength(1);
    expect((await bot.shipmate.deps.store.recentLog(50, 'staging')).filter((e) => e.ref === 'made_late')).toHaveLength(1);
  });
});

describe('fault: Slack down', () => {
  it('applies and audits a change while Slack is down; its channel post arrives once when Slack is back', async () => {
    await say('create slack_out experiment "Slack out"');
    // Every post fails for a while (more than the delivery job's first retries).
    bot.slack.failNext('chat.postMessage', { status: 503 }, 6);
    expect((await say('slack_out 25% staging')).text).toContain('off → *25%*');
    expect((await flag('slack_out'))?.envs.staging?.percentage).toBe(25);
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix, 100);
    expect(trail.find((e) => e.action === 'flag.change' && (e.detail ?? '').startsWith('slack_out'))).toMatchObject({ user: 'U0ALICE', env: 'staging', detail: 'slack_out: off -> 25%' });
    await eventually(() => announcements('slack_out', 'staging').length > 0, 20_000, 'the post after Slack came back');
    await sleep(500);
    expect(announcements('slack_out', 'staging')).toHaveLength(1);
    expect((await bot.shipmate.deps.store.recentLog(50, 'staging')).filter((e) => e.ref === 'slack_out')).toHaveLength(1);
  });
});
