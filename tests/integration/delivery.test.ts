// The delivery path under Slack faults (the stand-in answering 500, 429 with Retry-After, and slow answers that were
// processed but answered late): every message arrives exactly once, in order per channel, edits coalesce, a restart
// in the middle of an outage loses nothing, and a deploy that finishes during the outage is not slowed by it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin } from '../../playground/slack-standin/server.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { BOT_TOKEN, CHANNEL, allText, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

let redisUrl: string;
beforeAll(async () => {
  redisUrl = (await startRedis()).url;
});
afterAll(async () => {
  await stopRedis();
});


describe('delivery under Slack faults', () => {
  it('500s, 429s with Retry-After and slow answers: each message once, in order per channel', async () => {
    const bot = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl, delivery: { timeoutMs: 400, backoffMs: 50, maxBackoffMs: 400, editPaceMs: 0 } });
    try {
      const { delivery } = bot.shipmate.deps;
      bot.slack.failNext('chat.postMessage', { status: 500 }, 3);
      bot.slack.failNext('chat.postMessage', { retryAfter: 1 }, 1);
      // Processed at once, answered after the client gave up: the retry must find it, not post it again.
      bot.slack.failNext('chat.postMessage', { delayMs: 1_000 }, 2);
      for (let i = 0; i < 12; i++) {
        await delivery.send({ key: `test:a:${i}`, channel: 'C0AAA', text: `a ${i}` });
        await delivery.send({ key: `test:b:${i}`, channel: 'C0BBB', text: `b ${i}` });
      }
      // A thread reply waits for its parent; a DM goes to the user's DM channel.
      await delivery.send({ key: 'test:a:reply', channel: 'C0AAA', threadOf: 'test:a:0', text: 'in the thread of a 0' });
      await delivery.send({ key: 'test:dm', channel: 'U0ALICE', text: 'hello by DM' });
      await eventually(() => bot.slack.messages('C0AAA').length === 13 && bot.slack.messages('C0BBB').length === 12, 20_000, 'every message');
      await eventually(async () => (await delivery.tsOf('test:dm')) !== undefined, 5_000, 'the DM');
      await new Promise((ok) => setTimeout(ok, 1_200)); // any late double would have arrived by now
      for (const ch of ['a', 'b']) {
        const channel = ch === 'a' ? 'C0AAA' : 'C0BBB';
        const top = bot.slack.messages(channel).filter((m) => !m.thread_ts);
        expect(top.map((m) => m.text)).toEqual(Array.from({ length: 12 }, (_, i) => `${ch} ${i}`));
      }
      const parent = (await delivery.tsOf('test:a:0'))!;
      expect(bot.slack.thread('C0AAA', parent.ts).map((m) => m.text)).toEqual(['a 0', 'in the thread of a 0']);
      expect(bot.slack.messages().filter((m) => m.text === 'hello by DM')).toHaveLength(1);
      // the slow answers were looked up by their metadata key before posting again
      expect(bot.slack.callsTo('conversations.history').some((c) => c.args.include_all_metadata === 'true' || c.args.include_all_metadata === true)).toBe(true);
      // Retry-After honoured: after the 429 the next post came no sooner than a second later
      const posts = bot.slack.callsTo('chat.postMessage');
      const limited = posts.findIndex((c) => c.status === 429);
      expect(limited).toBeGreaterThanOrEqual(0);
      const next = posts.slice(limited + 1).find((c) => c.args.channel === posts[limited]?.args.channel);
      expect(next!.at - posts[limited]!.at).toBeGreaterThanOrEqual(950);
    } finally {
      await bot.stop();
    }
  }, 40_000);

  it('edits to one message coalesce: a queued edit is replaced by the newer state, and the latest state wins', async () => {
    const bot = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl, delivery: { editPaceMs: 300 } });
    try {
      const { delivery } = bot.shipmate.deps;
      await delivery.send({ key: 'test:live', channel: 'C0LIVE', text: 'state 0', mode: 'upsert' });
      await eventually(async () => delivery.tsOf('test:live'), 5_000, 'the first post');
      for (let i = 1; i <= 30; i++) await delivery.send({ key: 'test:live', channel: 'C0LIVE', text: `state ${i}`, mode: 'upsert' });
      // an older version sent late never overwrites a newer one
      await delivery.send({ key: 'test:versioned', channel: 'C0LIVE', text: 'v2', mode: 'upsert', version: 2 });
      await delivery.send({ key: 'test:versioned', channel: 'C0LIVE', text: 'v1', mode: 'upsert', version: 1 });
      await eventually(() => bot.slack.messages('C0LIVE').find((m) => m.text === 'state 30'), 5_000, 'the latest state');
      await eventually(() => bot.slack.messages('C0LIVE').find((m) => m.text === 'v2'), 5_000, 'the versioned message');
      expect(bot.slack.messages('C0LIVE')).toHaveLength(2);
      expect(bot.slack.callsTo('chat.update').length).toBeLessThanOrEqual(3);
      // a 'post' message with a key already sent is not posted again
      await delivery.send({ key: 'test:once', channel: 'C0LIVE', text: 'once' });
      await delivery.send({ key: 'test:once', channel: 'C0LIVE', text: 'once' });
      await eventually(() => bot.slack.messages('C0LIVE').find((m) => m.text === 'once'), 5_000);
      await new Promise((ok) => setTimeout(ok, 300));
      expect(bot.slack.messages('C0LIVE').filter((m) => m.text === 'once')).toHaveLength(1);
    } finally {
      await bot.stop();
    }
  }, 20_000);
});

describe('a Slack outage with a restart in the middle', () => {
  it('the deploy finishes on time; after the restart and recovery every message arrives once', async () => {
    const slack = await startSlackStandin({ token: BOT_TOKEN });
    const prefix = `outage${Date.now().toString(36)}`;
    const delivery = { timeoutMs: 400, backoffMs: 100, maxBackoffMs: 500 };
    let first: TestBot | undefined = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl, slack, prefix, delivery });
    let second: TestBot | undefined;
    try {
      // Slack is down for every Web API call: errors, rate limits and slow answers, over and over.
      slack.failNext('chat.postMessage', { status: 500 }, 5);
      slack.failNext('chat.postMessage', { retryAfter: 1 }, 2);
      slack.failNext('*', { delayMs: 600 }, 3);
      slack.failNext('*', { status: 503 }, 100_000);
      const res = await first.command('/deploy', 'stage v7.0.0', 'U0ALICE');
      expect(res.json.text).toContain('Deploying `v7.0.0`');
      const done = await eventually(async () => {
        const r = await first!.shipmate.deps.store.get('1');
        return r?.status === 'succeeded' ? r : undefined;
      }, 15_000, 'the deploy to succeed while Slack is down');
      // Three quick steps (the last sleeps 150 ms): Slack being down adds nothing to the deploy.
      expect(done.finishedAt! - done.startedAt!).toBeLessThan(2_000);
      expect(slack.messages(CHANNEL)).toHaveLength(0);

      await first.stop();
      first = undefined;
      second = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl, slack, prefix, delivery });
      await new Promise((ok) => setTimeout(ok, 500));
      slack.clearFailures(); // Slack is back
      const status = await eventually(() => {
        const m = second!.statusMessage('1');
        return m && allText(m).includes('Succeeded') ? m : undefined;
      }, 20_000, 'the status message to arrive and say Succeeded');
      await eventually(() => slack.messages('C0DEPLOYLOG').length === 1 && slack.thread(CHANNEL, status.ts).length === 4, 10_000, 'the log entry and the step output');
      await new Promise((ok) => setTimeout(ok, 800));
      expect(slack.messages(CHANNEL).filter((m) => !m.thread_ts && headerText(m).includes('Deploy #1 '))).toHaveLength(1);
      const outputs = slack.thread(CHANNEL, status.ts).slice(1).map((m) => m.text ?? '');
      expect(outputs).toEqual(['Build: passed', 'Migrate: passed', 'Release: passed']);
      expect(slack.messages('C0DEPLOYLOG')).toHaveLength(1);
      expect((await second.shipmate.deps.store.get('1'))?.statusTs).toBe(status.ts);
    } finally {
      await first?.stop();
      await second?.stop();
      await slack.close();
    }
  }, 60_000);
});
