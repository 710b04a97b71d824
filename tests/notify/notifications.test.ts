// Stakeholder notices end to end: /deploy with --notify and --quiet through the real receiver, the notices each
// event posts, the announcement, follow-ups as delayed jobs that survive a restart and a Cancel button, and
// templates with unknown variables refused at start-up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeployText } from '../../commands/deploy.js';
import { FOLLOW_UPS_CANCEL } from '../../blocks/notifications.js';
import { blockLimitProblems } from '../../playground/slack-standin/block-limits.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { ConfigError, parseConfig } from '../../src/core/config.js';
import { UserInputError } from '../../src/core/errors.js';
import { BOT_TOKEN, CHANNEL, allText, deployIdFrom, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

const YAML = `
channels:
  announcements: C0ANNOUNCE
environments:
  - name: staging
    channels: { stakeholders: [C0STAKE] }
    notifications:
      links: { app: "https://staging.example.com" }
      announcement: { title: "[STAGING] Demo {{version}} Update Available", text: "We deployed \`{{version}}\`. Please test it: {{links}}" }
    steps:
      - { name: Build, run: [node, -e, "setTimeout(() => {}, 100)"] }
  - name: broken
    channels: { stakeholders: [C0BROKEN] }
    steps:
      - { name: Deploy, run: [node, -e, "process.exit(3)"] }
  - name: production
    aliases: [prod]
    notifications:
      followUps:
        - { after: 1s, text: "Check-in for {{version}} on {{environment}} ({{deploy}})" }
        - { after: 4s, text: "Review for {{version}}" }
    steps:
      - { name: Release, run: [node, -e, "1"] }
  - name: later
    notifications:
      followUps: [{ after: 2s, text: "Later check-in for {{version}}" }]
    steps:
      - { name: Release, run: [node, -e, "1"] }
`;

let slack: SlackStandin;
let bot: TestBot;
let redisUrl: string;

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  slack = await startSlackStandin({ token: BOT_TOKEN });
  bot = await startTestBot({ configYaml: YAML, redisUrl, slack });
});
afterAll(async () => {
  await bot?.stop();
  await slack.close();
  await stopRedis();
});

async function deploy(text: string): Promise<string> {
  const res = await bot.command('/deploy', text);
  const id = deployIdFrom(String(res.json.text));
  await waitForEnd(bot, id);
  await bot.shipmate.deps.notifier.idle();
  return id;
}

describe('/deploy flags', () => {
  const config = parseConfig(YAML, 't.yml', {});
  it('reads --notify channels the way Slack sends them, and --quiet', () => {
    expect(parseDeployText('staging v1 --notify <#C0EXTRA|extra> --notify <#G0PRIV>', config)).toMatchObject({ env: 'staging', ref: 'v1', notify: ['C0EXTRA', 'G0PRIV'], quiet: false });
    expect(parseDeployText('staging --quiet', config)).toMatchObject({ env: 'staging', quiet: true, notify: [] });
  });
  it('refuses a channel Slack did not link, a missing one, and --quiet with --notify', () => {
    expect(() => parseDeployText('staging --notify #extra', config)).toThrow(/not a channel Slack linked/);
    expect(() => parseDeployText('staging --notify', config)).toThrow(/needs a channel/);
    expect(() => parseDeployText('staging --quiet --notify <#C0X1|x>', config)).toThrow(UserInputError);
  });
});

describe('stakeholder notices', () => {
  it('posts requested, starting and succeeded to the stakeholders and --notify channels, and the announcement', async () => {
    const id = await deploy('staging v1.0.0 --notify <#C0EXTRA|extra>');
    // The notices go out after the deploy ended, never holding it: wait for the last one.
    await eventually(() => slack.messages('C0ANNOUNCE').length > 0 && ['C0STAKE', 'C0EXTRA'].every((c) => slack.messages(c).length >= 3), 5000, 'the notices');
    for (const channel of ['C0STAKE', 'C0EXTRA']) {
      const messages = slack.messages(channel);
      // Order across events is the queue-backed delivery's job (per-channel order); here: each once.
      expect(messages.map(headerText).sort()).toEqual([':inbox_tray: staging: v1.0.0 requested', ':rocket: Deploying v1.0.0 to staging', ':white_check_mark: v1.0.0 is live on staging'].sort());
      for (const m of messages) expect(blockLimitProblems(m.blocks ?? [], 'message')).toEqual([]);
      const live = messages.find((m) => headerText(m).includes('is live'))!;
      expect(allText(live)).toContain(`|deploy #${id}>`);
      expect(allText(live)).toContain('<https://staging.example.com|app>');
    }
    const [announcement] = slack.messages('C0ANNOUNCE');
    expect(headerText(announcement!)).toBe('[STAGING] Demo v1.0.0 Update Available');
    expect(allText(announcement!)).toContain('Please test it: <https://staging.example.com|app>');
  });

  it('--quiet tells no stakeholder channel and makes no announcement', async () => {
    const before = [slack.messages('C0STAKE').length, slack.messages('C0ANNOUNCE').length];
    const id = await deploy('staging v1.0.1 --quiet');
    // The finish hook runs right after the status message's last update: wait for that, then for the notifier.
    await eventually(() => allText(bot.statusMessage(id) ?? { replies: [], channel: '', ts: '' }).includes('Succeeded'), 5000, 'the final status');
    await new Promise((ok) => setTimeout(ok, 100));
    await bot.shipmate.deps.notifier.idle();
    expect([slack.messages('C0STAKE').length, slack.messages('C0ANNOUNCE').length]).toEqual(before);
  });

  it('a failed deploy is told with why', async () => {
    await deploy('broken v9');
    const failed = await eventually(() => slack.messages('C0BROKEN').find((m) => headerText(m) === ':x: Deploy of v9 to broken failed'), 5000, 'the failure notice');
    expect(allText(failed!)).toContain('exit');
  });
});

describe('follow-ups', () => {
  it('posts each reminder in the deploy channel when due; Cancel follow-ups removes the rest', async () => {
    const id = await deploy('prod v2.0.0');
    await eventually(() => slack.messages(CHANNEL).find((m) => allText(m).includes(`Follow-ups scheduled for deploy #${id}`)), 5000, 'the follow-ups to be scheduled');
    const first = await eventually(() => slack.messages(CHANNEL).find((m) => allText(m).includes('Check-in for v2.0.0 on production')), 8000, 'the first follow-up');
    expect(allText(first)).toContain(`|deploy #${id}>`);
    const queue = bot.shipmate.deps.notifier['d'].followUps.queue;
    expect(await (await queue.getJob(`followup-${id}-1`))?.isDelayed()).toBe(true);
    await bot.click(first, FOLLOW_UPS_CANCEL, 'U0BOB');
    await eventually(async () => !(await queue.getJob(`followup-${id}-1`)), 5000, 'the second follow-up to be removed');
    await eventually(() => slack.ephemerals('U0BOB').some((m) => (m.text ?? '').includes(`Cancelled 1 follow-up of deploy #${id}`)), 5000, 'the confirmation');
  });

  it('survives a restart: a reminder due while Shipmate was down is posted when it is back', async () => {
    const id = await deploy('later v3.0.0');
    await eventually(async () => bot.shipmate.deps.notifier['d'].followUps.queue.getJob(`followup-${id}-0`), 5000, 'the follow-up job');
    await bot.stop();
    expect(slack.messages(CHANNEL).some((m) => allText(m).includes('Later check-in for v3.0.0'))).toBe(false);
    await new Promise((ok) => setTimeout(ok, 2200));
    bot = await startTestBot({ configYaml: YAML, redisUrl, slack, prefix: bot.prefix });
    const find = () => slack.messages(CHANNEL).filter((m) => allText(m).includes('Later check-in for v3.0.0'));
    await eventually(() => find().length > 0, 8000, 'the follow-up after the restart');
    const posted = find();
    expect(posted.length).toBe(1);
    expect(allText(posted[0]!)).toContain(`deploy #${id}`);
  });
});

describe('config', () => {
  it('refuses unknown variables in notice templates at start-up, with the path', () => {
    const bad = YAML.replace('Please test it: {{links}}', 'Please test it: {{linkz}}');
    expect(() => parseConfig(bad, 't.yml', {})).toThrow(ConfigError);
    expect(() => parseConfig(bad, 't.yml', {})).toThrow(/environments\.0\.notifications\.announcement\.text: unknown variable \{\{linkz\}\}/);
  });
});
