// Resilience row: the Slack stand-in answers 500, then 429 (Retry-After), then slowly, for a while, while
// deploys are requested and run. Every command is still answered within 3 s (one needs a user-group lookup
// that Slack is rate-limiting, with nothing cached), every deploy finishes, and each keeps exactly one stored
// log entry that matches it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { ROWS, Tally, lostMessage } from './table.js';

const quick = `steps:
      - { name: Build, run: [node, -e, "setTimeout(() => console.log('built'), 100)"] }
      - { name: Release, run: [node, -e, "setTimeout(() => console.log('released'), 100)"] }`;
const YAML = `
roles:
  devs: { groups: [S0DEVS] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: one
    ${quick}
  - name: two
    ${quick}
  - name: three
    ${quick}
  - name: grouped
    deployers: [devs]
    ${quick}
`;

let slack: SlackStandin;
let bot: TestBot;

beforeAll(async () => {
  slack = await startSlackStandin({ token: BOT_TOKEN, usergroups: [{ id: 'S0DEVS', handle: 'devs', users: ['U0ALICE'] }] });
  // The user-group lookup is rate-limited from the start, so the bot's cache is still cold at the first command.
  slack.failNext('usergroups.users.list', { status: 429, retryAfter: 1 }, 12);
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, slack });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await stopRedis();
});

it(ROWS.slackFaults, async ({ task }) => {
  const tally = new Tally('slackFaults');
  // For a while every Web API call fails: 500s, then 429s, then slow (2 s) answers; then Slack is well again.
  slack.failNext('*', { status: 500 }, 10);
  slack.failNext('*', { status: 429, retryAfter: 1 }, 6);
  slack.failNext('*', { delayMs: 2000 }, 8);

  const requests: Array<{ text: string; status: number; ms: number; reply: string }> = [];
  for (const text of ['grouped v1.0.0', 'one v1.0.0', 'two v1.0.0', 'three v1.0.0', 'one v1.0.1', 'two v1.0.1', 'three v1.0.1']) {
    const res = await bot.command('/deploy', text, 'U0ALICE');
    requests.push({ text, status: res.status, ms: res.ms, reply: String(res.json?.text ?? '') });
  }

  const { store } = bot.shipmate.deps;
  for (const r of requests) {
    const id = /deploy #(\d+)/.exec(r.reply)?.[1];
    const problems: Array<string | false> = [
      r.status !== 200 && `answered ${r.status}`,
      r.ms >= 3000 && `answered after ${Math.round(r.ms)} ms`,
      !r.reply && 'no reply text',
    ];
    if (id) {
      const record = await waitForEnd(bot, id, 60_000).catch(() => undefined);
      // The entry is written once the deploy's end has been shown (or given up on), so it may trail the record.
      const logged = async () => (await store.recentLog(100)).filter((e) => e.deployId === id);
      await eventually(async () => (await logged()).length > 0, 30_000).catch(() => undefined);
      const entries = await logged();
      problems.push(
        !record && 'never finished',
        !!record && record.status !== 'succeeded' && `ended ${record.status}: ${record.error ?? ''}`,
        entries.length !== 1 && `${entries.length} stored log entries`,
        !!record && entries.length === 1 && entries[0]?.status !== record.status && `log says ${entries[0]?.status}`,
      );
    } else {
      // Not queued (e.g. "could not check your role, try again"): then nothing may have been created for it.
      const version = r.text.split(' ')[1];
      const seq = Number(await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`));
      const records = await store.getMany(Array.from({ length: seq }, (_, i) => String(i + 1)));
      problems.push(records.some((x) => x.version === version && x.env === r.text.split(' ')[0]) && 'a deploy was created though the reply did not say so');
    }
    tally.check(`/deploy ${r.text}`, problems);
  }

  const row = tally.record(task, `${requests.length} deploys under 10×500, 6×429, 8 slow answers`);
  // The faults really happened (a row that never met them would prove nothing).
  // (a queued fault is taken by whichever call comes next, so most, not always all, land on recorded calls)
  expect(slack.calls.filter((c) => c.status === 500).length).toBeGreaterThanOrEqual(5);
  expect(slack.calls.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(1);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 120_000);
