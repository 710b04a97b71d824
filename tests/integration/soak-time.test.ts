// Soak time through /deploy: production refuses a version that has not been on staging for `soakFor`, saying
// when it may go (UTC and the requester's zone from Slack), then takes it once the time has passed (deps.now).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

const YAML = `
environments:
  - name: staging
    steps: [{ name: s, run: [true] }]
  - name: production
    requires: { succeededOn: staging, soakFor: 3d }
    steps: [{ name: s, run: [true] }]
`;
const START = Date.UTC(2026, 0, 5, 12);
let clock = START;
let bot: TestBot;
let slack: SlackStandin;
beforeAll(async () => {
  slack = await startSlackStandin({ token: BOT_TOKEN, users: [{ id: 'U0PAT', name: 'pat', tz: 'America/Los_Angeles' }] });
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, slack, now: () => clock });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await stopRedis();
});

describe('soak time', () => {
  it('refused before 3 days on staging with when it may go, accepted after', async () => {
    const staged = /deploy #(\d+)/.exec((await bot.command('/deploy', 'staging v1.4.0', 'U0PAT')).json.text)?.[1] ?? '';
    expect((await waitForEnd(bot, staged)).status).toBe('succeeded');
    clock = START + 86_400_000;
    const early = await bot.command('/deploy', 'production v1.4.0', 'U0PAT');
    expect(early.json.response_type).toBe('ephemeral');
    expect(early.json.text).toContain('has been on *staging* for 1 day');
    expect(early.json.text).toContain('Thu 8 Jan 2026 12:00 UTC = Thu 8 Jan 2026 04:00 (America/Los_Angeles, UTC-08:00) your time');
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
    clock = START + 3 * 86_400_000;
    const ok = await bot.command('/deploy', 'production v1.4.0', 'U0PAT');
    const id = /deploy #(\d+)/.exec(ok.json.text)?.[1] ?? '';
    expect((await waitForEnd(bot, id)).status).toBe('succeeded');
  });
});
