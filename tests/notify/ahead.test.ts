// A notice ahead (`notifications.ahead`): the deploy is held back that long after it is queued, the stakeholders
// are told when it starts the moment it is queued, and cancelling it meanwhile removes its delayed job and says
// so under the notice — the step never runs.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allText, deployIdFrom, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

const marks = join(mkdtempSync(join(tmpdir(), 'shipmate-ahead-')), 'ran.log');
const YAML = `
environments:
  - name: window
    channels: { stakeholders: [C0AHEAD] }
    notifications: { ahead: 2s }
    steps:
      - { name: Release, run: [sh, -c, 'echo "{{version}} $(date +%s%3N)" >> ${marks}'] }
  - name: plain
    steps:
      - { name: Release, run: [sh, -c, 'sleep 0.3'] }
`;
const ran = () => (existsSync(marks) ? readFileSync(marks, 'utf8').trim().split('\n') : []);

let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

describe('notice ahead', () => {
  it('tells the stakeholders when the deploy starts, and starts it no earlier', async () => {
    const asked = Date.now();
    const id = deployIdFrom(String((await bot.command('/deploy', 'window v1.0.0')).json.text));
    const notice = await eventually(() => bot.slack.messages('C0AHEAD').find((m) => headerText(m).startsWith(':alarm_clock: window: v1.0.0 goes out')), 1500, 'the ahead notice');
    expect(allText(notice)).toContain('will deploy `v1.0.0` to *window*');
    const queued = await bot.shipmate.deps.store.get(id);
    expect(queued?.startsAt).toBeGreaterThanOrEqual(asked + 2000);
    expect(allText(await eventually(() => bot.statusMessage(id)))).toContain('starts');
    expect(ran()).toEqual([]);
    const done = await waitForEnd(bot, id, 10_000);
    expect(done.status).toBe('succeeded');
    const [line] = ran().filter((l) => l.startsWith('v1.0.0 '));
    expect(Number(line!.split(' ')[1])).toBeGreaterThanOrEqual(queued!.startsAt!);
    await bot.shipmate.deps.notifier.idle();
    // the ahead notice replaces "requested"; "starting" and "succeeded" follow as usual
    await eventually(() => bot.slack.messages('C0AHEAD').some((m) => headerText(m).includes('is live on window')), 5000, 'the success notice');
    expect(bot.slack.messages('C0AHEAD').filter((m) => !m.thread_ts).map(headerText)).toEqual([
      notice.blocks ? headerText(notice) : '',
      ':rocket: Deploying v1.0.0 to window',
      ':white_check_mark: v1.0.0 is live on window',
    ]);
  });

  it('a deploy cancelled before its start never runs, and the notice is answered', async () => {
    const id = deployIdFrom(String((await bot.command('/deploy', 'window v2.0.0')).json.text));
    const notice = await eventually(() => bot.slack.messages('C0AHEAD').find((m) => headerText(m).startsWith(':alarm_clock: window: v2.0.0')), 1500, 'the ahead notice');
    const status = await eventually(() => bot.statusMessage(id));
    await bot.click(status, 'shipmate_cancel_deploy', 'U0ALICE');
    const record = await waitForEnd(bot, id, 5000);
    expect(record.status).toBe('cancelled');
    expect(await bot.shipmate.deps.queues.queue('window').getJob(`deploy-${id}`)).toBeUndefined();
    await eventually(() => bot.slack.thread('C0AHEAD', notice.ts).some((m) => allText(m).includes(`Deploy #${id} of \`v2.0.0\` to *window* was cancelled, so it did not start`)), 5000, 'the reply under the notice');
    await new Promise((ok) => setTimeout(ok, 2500));
    expect(ran().some((l) => l.startsWith('v2.0.0 '))).toBe(false);
  });
});

describe('App Home follows deploys', () => {
  it('republishes the Home of whoever opened it lately when a deploy starts and when it ends, without them reopening it', async () => {
    await bot.homeOpened('U0VIEWER');
    await eventually(() => bot.slack.homeOf('U0VIEWER'), 5000, 'the first Home');
    const id = deployIdFrom(String((await bot.command('/deploy', 'plain v3.0.0')).json.text));
    await waitForEnd(bot, id, 10_000);
    // The board names the version now live on "plain" (it did not exist when the Home was first published).
    await eventually(() => JSON.stringify(bot.slack.homeOf('U0VIEWER')?.blocks ?? []).includes('v3.0.0'), 5000, 'the Home to show v3.0.0');
    const publishes = bot.slack.callsTo('views.publish').filter((c) => c.args.user_id === 'U0VIEWER').length;
    // once for the open, once for the start, once for the end (never once per step or per sync)
    expect(publishes).toBeLessThanOrEqual(3);
  });
});
