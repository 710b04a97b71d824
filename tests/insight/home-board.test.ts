// The App Home board's environment rows say what the time rules hold for each environment: the freeze in force, the
// maintenance window open or next, the release day today or next (src/schedule), through the real bot on a fixed clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackDate } from '../../blocks/format.js';
import { parseConfig } from '../../src/core/config.js';
import { scheduleLine } from '../../src/slack/home.js';
import { startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

const YAML = `
schedule:
  timeZone: UTC
  maintenanceWindows:
    - { name: monthly, every: "FREQ=WEEKLY;INTERVAL=4;BYDAY=SU", start: "2026-01-04T02:00", duration: 2h, environments: [production] }
    - { name: nightly, every: "FREQ=DAILY", start: "2026-01-01T09:00", duration: 2h, environments: [staging] }
  freezes:
    - { reason: "Year-end freeze", start: "2026-12-20", until: "2027-01-04", environments: [production], allowHotfix: true }
  releaseCalendar:
    - { name: regular, every: "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", start: "2026-01-06", environments: [production] }
environments:
  - name: dev
    steps: [{ name: s, run: [node, -e, "0"] }]
  - name: staging
    steps: [{ name: s, run: [node, -e, "0"] }]
  - name: production
    steps: [{ name: s, run: [node, -e, "0"] }]
`;
// Wednesday 23 December 2026, 10:00 UTC: production is frozen; staging's nightly window is open (09:00–11:00).
const NOW = Date.UTC(2026, 11, 23, 10);
const config = parseConfig(YAML, 'test.yml', {});

describe('schedule on the board', () => {
  it('says the freeze in force, the window open or next and the next release day, per environment', () => {
    const prod = scheduleLine(config, 'production', NOW)!;
    expect(prod).toContain(`:no_entry: Frozen until ${slackDate(Date.UTC(2027, 0, 4))}: Year-end freeze (hotfixes may go out)`);
    // Every 4 weeks from Sunday 4 January: the next is Sunday 3 January; release days every other Tuesday from 6 January: 5 January next.
    expect(prod).toContain(`:calendar: Next window *monthly* ${slackDate(Date.UTC(2027, 0, 3, 2))}`);
    expect(prod).toContain(`:rocket: Next release day *regular* ${slackDate(Date.UTC(2027, 0, 5))}`);
    expect(scheduleLine(config, 'staging', NOW)).toBe(`:large_green_circle: Window *nightly* open until ${slackDate(Date.UTC(2026, 11, 23, 11))}`);
    expect(scheduleLine(config, 'dev', NOW)).toBeUndefined();
  });

  describe('App Home', () => {
    let bot: TestBot;
    beforeAll(async () => {
      bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, now: () => NOW });
    });
    afterAll(async () => {
      await bot?.stop();
      await stopRedis();
    });

    it('shows each environment\'s row with its time rules', async () => {
      await bot.homeOpened('U0ALICE');
      const view = await bot.slack.waitFor(() => bot.slack.homeOf('U0ALICE'));
      const rows = (view.blocks as Array<{ type: string; text?: { text: string } }>).filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
      const row = (env: string) => rows.find((t) => t.startsWith(`*${env}*`)) ?? '';
      expect(row('production')).toContain('Frozen until');
      expect(row('production')).toContain('Next window *monthly*');
      expect(row('production')).toContain('Next release day *regular*');
      expect(row('staging')).toContain('Window *nightly* open until');
      expect(row('dev')).not.toMatch(/window|Frozen|release day/i);
    });

    it('publishes the Home without the chart when Slack refuses its file', async () => {
      const { store, redis, prefix } = bot.shipmate.deps;
      await store.appendLog({ deployId: '1', env: 'production', version: 'v1', ref: 'v1', deployedBy: 'U0ALICE', status: 'succeeded', at: NOW - 3_600_000, notes: [] });
      // A chart whose file Slack no longer has (deleted, say); the current numbers' chart is still being uploaded.
      await redis.hset(`${prefix}:home-chart:production`, { hash: 'old', file: 'F0GONE', at: String(NOW - 86_400_000) });
      const before = bot.slack.callsTo('views.publish').length;
      await bot.homeOpened('U0BOB');
      const calls = await bot.slack.waitFor(() => {
        const c = bot.slack.callsTo('views.publish').slice(before).filter((x) => x.args.user_id === 'U0BOB');
        return c.some((x) => x.response.ok) ? c : undefined;
      });
      expect(calls[0]!.response.error).toBe('invalid_blocks');
      expect(JSON.stringify(calls.find((x) => x.response.ok)!.args.view)).not.toContain('F0GONE');
      expect(JSON.stringify(bot.slack.homeOf('U0BOB'))).toContain('DORA metrics, last 30 days');
    });
  });
});
