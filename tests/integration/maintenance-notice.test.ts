// "Maintenance ahead" notices: a BullMQ delayed job per window occurrence (notifyBefore ahead of its start), posted
// once to the stakeholders, then the next occurrence's job is waiting. Time from deps.now.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_QUEUE } from '../../jobs/maintenance-notice.js';
import { allText, eventually, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

const YAML = `
schedule:
  maintenanceWindows:
    - { name: nightly, every: "FREQ=DAILY", start: "2026-03-01T02:00", duration: 2h, environments: [production], notifyBefore: 1h }
environments:
  - name: production
    channels: { stakeholders: [C0STAKE] }
    notifications: { events: [maintenance] }
    steps: [{ name: s, run: [true] }]
`;
// 30 s after the notice of the 1 March window was due: it goes out at once, the 2 March one waits a day.
const NOW = Date.UTC(2026, 2, 1, 1, 0, 30);
let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, now: () => NOW });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

describe('maintenance ahead', () => {
  it('tells the stakeholders once before the window and schedules the next occurrence as a delayed job', async () => {
    const notice = await eventually(() => bot.slack.messages('C0STAKE').find((m) => allText(m).includes('nightly')), 10_000, 'the maintenance notice');
    expect(allText(notice)).toContain('2 hours');
    const queue = new Queue(MAINTENANCE_QUEUE, { connection: bot.shipmate.deps.redis, prefix: bot.prefix });
    const next = await eventually(async () => (await queue.getDelayed()).find((j) => j.data.start === Date.UTC(2026, 2, 2, 2)), 10_000, 'the next notice job');
    expect(next.id).toBe(`maintenance-nightly-${Date.UTC(2026, 2, 2, 2)}`);
    expect(next.opts.delay).toBe(Date.UTC(2026, 2, 2, 1) - NOW);
    await new Promise((ok) => setTimeout(ok, 500));
    expect(bot.slack.messages('C0STAKE').filter((m) => allText(m).includes('nightly'))).toHaveLength(1);
    await queue.close();
  });
});
