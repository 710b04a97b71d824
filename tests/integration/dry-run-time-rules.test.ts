// `/deploy <env> --dry-run` through the real Bolt receiver says what the real request would meet in time and
// locks: the environment lock (who, why, since), a freeze (its reason, whether a hotfix would pass), the release
// calendar (today or the next day, enforced or not), the maintenance window and the soak time — with the clock
// controlled (deps.now) and the requester's zone from Slack. Nothing is queued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

const YAML = `
schedule:
  timeZone: UTC
  maintenanceWindows:
    - { name: sunday-night, every: 'FREQ=WEEKLY;BYDAY=SU', start: '2026-01-04T02:00', duration: 2h, environments: [production] }
  freezes:
    - { reason: Year-end books close, start: '2026-01-10T00:00', until: '2026-01-12T00:00', environments: [production] }
  releaseCalendar:
    - { name: regular, every: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU', start: '2026-01-06', environments: [production], enforce: true }
environments:
  - name: staging
    steps: [{ name: s, run: [true] }]
  - name: production
    requires: { succeededOn: staging, soakFor: 3d }
    lock: { allowHotfix: true }
    steps: [{ name: s, run: [true] }]
`;
const day = (d: number, h = 12) => Date.UTC(2026, 0, d, h);
let clock = day(5);
let bot: TestBot;
let slack: SlackStandin;

beforeAll(async () => {
  slack = await startSlackStandin({ token: BOT_TOKEN, users: [{ id: 'U0RAVI', name: 'ravi', tz: 'Asia/Kolkata' }] });
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, slack, now: () => clock });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await stopRedis();
});

async function dryRun(text: string): Promise<string> {
  const reply = await bot.command('/deploy', text, 'U0RAVI');
  expect(reply.json.response_type).toBe('ephemeral');
  expect(await bot.shipmate.deps.store.active()).toEqual([]);
  return reply.json.text ?? '';
}

describe('/deploy --dry-run: locks and time rules', () => {
  it('says soak, calendar and window before the version has soaked (Wed 7 Jan)', async () => {
    const staged = /deploy #(\d+)/.exec((await bot.command('/deploy', 'staging v1.4.0', 'U0RAVI')).json.text)?.[1] ?? '';
    expect((await waitForEnd(bot, staged)).status).toBe('succeeded');
    clock = day(7);
    const text = await dryRun('production v1.4.0 --dry-run');
    expect(text).toContain(':white_check_mark: Lock: none.');
    expect(text).toContain(':white_check_mark: Freeze: none now.');
    // the release calendar: not today, the next one in UTC and in Ravi's zone, enforced for regular releases
    expect(text).toContain(':x: Release calendar (regular, enforced for regular releases): today is not a release day; next: regular, Tue 20 Jan 2026 00:00 UTC = Tue 20 Jan 2026 05:30 (Asia/Kolkata, UTC+05:30) your time. A regular release waits for it');
    expect(text).toContain(':wrench: Maintenance window: none open; the next (sunday-night) opens Sun 11 Jan 2026 02:00 UTC');
    expect(text).toContain(':x: Soak: `v1.4.0` has been on *staging* for 2 days; production takes versions after 3 days there. It may go from Thu 8 Jan 2026 12:00 UTC = Thu 8 Jan 2026 17:30 (Asia/Kolkata, UTC+05:30) your time.');
  });

  it('says the lock (who, why, since) and the freeze with whether a hotfix would pass (Sat 10 Jan)', async () => {
    clock = day(10);
    const locked = await bot.command('/deploys', 'lock production "payments incident"', 'U0RAVI');
    expect(locked.json.text ?? '').not.toMatch(/may not/);
    const text = await dryRun('production v1.4.0 --dry-run');
    expect(text).toMatch(/:x: Lock: production is locked by <@U0RAVI> since .*: payments incident\. Hotfixes may still go out\. `\/deploys unlock production` lifts it\./);
    expect(text).toContain(':x: Freeze until Mon 12 Jan 2026 00:00 UTC = Mon 12 Jan 2026 05:30 (Asia/Kolkata, UTC+05:30) your time: Year-end books close. A hotfix would pass (`--hotfix`).');
    expect(text).toContain(':white_check_mark: Soak: on staging for 5 days (needs 3 days).');
    const hotfix = await dryRun('production v1.4.0 --dry-run --hotfix');
    expect(hotfix).toContain(':white_check_mark: Freeze until Mon 12 Jan 2026');
    expect(hotfix).toContain('A hotfix would pass (`--hotfix`), as this one is.');
    expect(hotfix).toMatch(/:white_check_mark: Lock: production is locked by <@U0RAVI> .*Hotfixes may still go out, so this one would\./);
    expect(hotfix).toContain('A hotfix goes out any day.');
    await bot.command('/deploys', 'unlock production', 'U0RAVI');
  });

  it('says today is a release day and the window is open when they are', async () => {
    clock = day(20, 10);
    const text = await dryRun('production v1.4.0 --dry-run');
    expect(text).toContain(':white_check_mark: Lock: none.');
    expect(text).toContain(':calendar: Release calendar (regular, enforced for regular releases): today is a release day (regular); next: regular, Tue 3 Feb 2026 00:00 UTC');
    clock = day(25, 3);
    const sunday = await dryRun('production v1.4.0 --dry-run');
    expect(sunday).toContain(':wrench: Maintenance window: sunday-night is open until Sun 25 Jan 2026 04:00 UTC');
  });
});
