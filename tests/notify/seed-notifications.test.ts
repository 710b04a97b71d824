// The seed teams' notices and announcements (examples/*.yml): each rendered within Block Kit limits and posted
// to the channels its config names, through the real notifier, delivery, Redis and the Slack stand-in.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockLimitProblems } from '../../playground/slack-standin/block-limits.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createRedis } from '../../src/core/redis.js';
import { DeployStore, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { DirectDelivery } from '../helpers/direct-delivery.js';
import { FollowUpQueue } from '../../src/notify/follow-ups.js';
import { Notifier } from '../../src/notify/notifier.js';
import { allText, headerText, memoryLog, startRedis, stopRedis } from '../helpers/harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'xoxb-seed-notices';
let slack: SlackStandin;
let redisUrl: string;

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  slack = await startSlackStandin({ token: TOKEN });
});
afterAll(async () => {
  await slack.close();
  await stopRedis();
});

/** Loads an example with placeholder values for the ${VARS} it reads. */
function example(name: string): Config {
  const text = readFileSync(`${root}examples/${name}.yml`, 'utf8');
  // Only the variables without a default get a placeholder; the others keep the example's own default.
  const vars = Object.fromEntries([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => [m[1], 'x']));
  return parseConfig(text, name, vars);
}

let n = 0;
async function notifierFor(config: Config) {
  const redis = createRedis(redisUrl);
  const prefix = `seed${n++}`;
  const { log } = memoryLog();
  const store = new DeployStore(redis, prefix, Date.now, (s) => s);
  const web = new WebClient(TOKEN, { slackApiUrl: slack.url });
  const followUps = new FollowUpQueue(redis, prefix);
  const notifier = new Notifier({ config, delivery: new DirectDelivery(web, redis, prefix, log), followUps, store, redis, prefix, log, now: Date.now });
  let id = 0;
  const record = (env: string, change: Partial<DeployRecord>) =>
    store.create({ id: `${++id}`, env, ref: 'v2.1.0', version: 'v2.1.0', requestedBy: 'U0SEEDDEV', channel: 'C0SEEDTEAM', status: 'succeeded', steps: [], createdAt: Date.now(), queuedAt: Date.now() - 60_000, startedAt: Date.now() - 60_000, finishedAt: Date.now(), ...change });
  return { notifier, record, followUps, close: async () => { await notifier.close(); redis.disconnect(); } };
}

/** Every message the stand-in holds in `channel` since `from`, checked against Slack's limits. */
function posted(channel: string, from: number) {
  const messages = slack.messages(channel).slice(from);
  for (const m of messages) expect(blockLimitProblems(m.blocks ?? [], 'message'), allText(m)).toEqual([]);
  return messages;
}

describe("seed teams' notifications", () => {
  it("Academic Lab: the [STAGING] and [PRODUCTION] announcements go to its announcements channel, results to the students", async () => {
    const config = example('academiclab');
    const { notifier, record, close } = await notifierFor(config);
    const announce = config.channels.announcements ?? '';
    const before = slack.messages(announce).length;
    notifier.finished(await record('staging', { notes: ['MCAR/MAR/MNAR detection, better decision trees'] }));
    notifier.finished(await record('production', {}));
    await notifier.idle();
    const [staging, production] = posted(announce, before);
    expect(headerText(staging!)).toBe('[STAGING] Academic Lab Update Available');
    expect(allText(staging!)).toContain('MCAR/MAR/MNAR detection');
    expect(allText(staging!)).toContain('<https://staging.academiclab.com|Test it>');
    expect(allText(staging!)).toContain('please report them');
    expect(headerText(production!)).toBe('[PRODUCTION] Academic Lab v2.1.0 — New Features Live! 🚀');
    expect(allText(production!)).toContain('support@academiclab.com');
    const students = config.environments.find((e) => e.name === 'production')?.channels.stakeholders ?? [];
    expect(students).toEqual(['C0ALABSTUDENTS']);
    expect(posted('C0ALABSTUDENTS', 0).map(headerText)).toEqual([':white_check_mark: v2.1.0 is live on staging', ':white_check_mark: v2.1.0 is live on production']);
    await close();
  });

  it('Ontos: stakeholder notice and rollback notification to both production channels, 1-day / 1-week / 1-month follow-ups and a post-mortem reminder', async () => {
    const config = example('ontos');
    const { notifier, record, followUps, close } = await notifierFor(config);
    const release = await record('production', {});
    notifier.requested({ ...release, status: 'pending' });
    notifier.finished(release);
    notifier.finished(await record('production', { kind: 'rollback', rollbackFrom: 'v2.1.0', version: 'v2.0.3', ref: 'v2.0.3' }));
    await notifier.idle();
    for (const channel of ['C0ONTOSRELEASES', 'C0ONTOSSTATUS']) {
      expect(posted(channel, 0).map(headerText)).toEqual([':inbox_tray: production: v2.1.0 requested', ':white_check_mark: Ontos ML Workbench v2.1.0 is live', ':rewind: Rollback notification: production is back on v2.0.3']);
    }
    const jobs = await followUps.queue.getDelayed();
    const byDeploy = (id: string) => jobs.filter((j) => j.data.deployId === id).sort((a, b) => a.data.n - b.data.n);
    // The rollback superseded the release's check-ins; its own post-mortem reminder waits an hour.
    expect(byDeploy(release.id)).toEqual([]);
    expect(byDeploy('2').map((j) => [j.id, j.opts.delay])).toEqual([['followup-2-10', 3_600_000]]);
    await close();
  });

  it('Ontos: a production release schedules the three default follow-ups as delayed jobs', async () => {
    const { notifier, record, followUps, close } = await notifierFor(example('ontos'));
    notifier.finished(await record('production', {}));
    await notifier.idle();
    const jobs = (await followUps.queue.getDelayed()).sort((a, b) => a.data.n - b.data.n);
    expect(jobs.map((j) => [j.id, j.opts.delay])).toEqual([['followup-1-0', 86_400_000], ['followup-1-1', 7 * 86_400_000], ['followup-1-2', 30 * 86_400_000]]);
    expect(jobs.map((j) => j.data.text.split('*')[1])).toEqual(['1-day check-in', '1-week review', '1-month review']);
    await close();
  });

  it("SarvanOM: status updates, success confirmation, escalation, maintenance and the feature announcement to the channels it names", async () => {
    const config = example('sarvanom');
    const { notifier, record, close } = await notifierFor(config);
    notifier.starting(await record('production', { status: 'running' }));
    notifier.finished(await record('production', {}));
    notifier.finished(await record('production', { status: 'failed', error: 'Step “Canary 5%” failed: error rate 2.3%.' }));
    notifier.starting(await record('staging', { status: 'running' }));
    await notifier.maintenanceAhead('production', { start: Date.UTC(2026, 2, 1, 2), notes: 'database migration' });
    await notifier.idle();
    for (const channel of ['C0SARVRELEASES', 'C0SARVSUPPORT']) {
      const heads = posted(channel, 0).map(headerText);
      expect(heads).toEqual(expect.arrayContaining([':rocket: Deploying v2.1.0 to production', ':white_check_mark: Success confirmation: SarvanOM v2.1.0 is live', ':rotating_light: Issue escalation: v2.1.0 did not reach production']));
      expect(heads.some((h) => h.startsWith(':construction: Scheduled maintenance <!date^1772330400^'))).toBe(true);
    }
    expect(allText(posted('C0SARVSUPPORT', 0).find((m) => headerText(m).includes('Issue escalation'))!)).toContain('error rate 2.3%');
    expect(posted('C0SARVBETA', 0).map(headerText)).toEqual([':rocket: Deploying v2.1.0 to staging']);
    expect(posted('C0SARVENG', 0)).toEqual([]);
    expect(posted(config.channels.announcements ?? '', 0).map(headerText)).toEqual([':sparkles: SarvanOM v2.1.0 is available']);
    await close();
  });
});
