// /deploys stats and /deploys log end to end: the real Bolt receiver fed signed requests, a real redis-server, the
// Slack stand-in. The chart is uploaded (files.uploadV2's three steps) into the stats message's thread by a job that
// retries when Slack fails and delivers once; the log pages with buttons and exports 10,000 entries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import type { LogEntry } from '../../src/deploys/deploy-store.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { CHANNEL, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

const MIN = 60_000;
const N = 10_000;
const USERS = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'];
let bot: TestBot;
const now = Date.now();

beforeAll(async () => {
  const redis = await startRedis();
  bot = await startTestBot({ configYaml: `${PIPELINE_YAML}\nlog: { keep: 20000, keepFor: 90d }\n`, redisUrl: redis.url });
  const store = bot.shipmate.deps.store;
  // One change every 4 minutes going back ~27 days; every 10th failed and was restored by the next.
  const entry = (i: number): LogEntry => ({
    deployId: String(100_000 + i), env: 'production', version: `v1.${i}`, ref: `v1.${i}`, deployedBy: USERS[i % 4]!, at: now - (N - i) * 4 * MIN, notes: [],
    status: i % 10 === 0 ? 'failed' : 'succeeded', firstCommitAt: now - (N - i) * 4 * MIN - 2 * 3_600_000,
  });
  for (let i = 0; i < N; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, k) => store.appendLog(entry(i + k))));
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

const fileMessages = (threadTs?: string) => bot.slack.messages(CHANNEL).filter((m) => m.files?.length && (threadTs === undefined || m.thread_ts === threadTs));

describe('/deploys stats', () => {
  it('posts the four numbers and uploads the chart into their thread, once, though Slack failed the first upload', async () => {
    bot.slack.failNext('files.completeUploadExternal', { status: 500 });
    const res = await bot.command('/deploys', 'stats prod 7d');
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect(res.json.text).toMatch(/Posted production's DORA numbers for the last 7 days/);
    const stats = await bot.slack.waitFor(() => bot.slack.messages(CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes('DORA metrics · production')));
    const text = JSON.stringify(stats.blocks);
    expect(text).toMatch(/Deployment frequency:\* 22\d\d deploys \(22\d\d a week\)/); // ~2520 in 7 days, a tenth failed
    expect(text).toContain('Lead time for changes:* median 2 h, p90 2 h');
    expect(text).toMatch(/Change failure rate:\* 10 % \(25\d of 25\d\d\)/);
    expect(text).toContain('Time to restore:* median 4 min');
    expect(text).toContain('Elite');
    expect(text).toContain('Four Keys');
    const [file] = await bot.slack.waitFor(() => (fileMessages(stats.ts).length ? fileMessages(stats.ts) : undefined), 15_000);
    const meta = file!.files![0] as { id: string; name: string };
    expect(meta.name).toBe('dora-production.png');
    const png = bot.slack.file(meta.id)!.bytes!;
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([960, 720]);
    expect(bot.slack.callsTo('files.completeUploadExternal').length).toBe(2);
    await new Promise((ok) => setTimeout(ok, 500));
    expect(fileMessages(stats.ts)).toHaveLength(1);
  }, 30_000);

  it('refuses a bad period privately and queues nothing', async () => {
    const before = bot.slack.calls.length;
    const res = await bot.command('/deploys', 'stats production forever');
    expect(res.json.text).toMatch(/not a period/);
    const uploads = (await bot.shipmate.deps.queues.deliver.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.name === 'upload');
    expect(uploads).toHaveLength(1); // the chart of the test before
    expect(bot.slack.calls.slice(before).filter((c) => c.method.startsWith('files.'))).toHaveLength(0);
  });
});

describe('/deploys log', () => {
  it('pages a filtered log with Older / Newer buttons', async () => {
    const res = await bot.command('/deploys', 'log production --status failed --user <@U0CAROL|carol>');
    const blocks = JSON.stringify(res.json.blocks);
    // failed: i % 10 == 0; Carol: i % 4 == 2 → i % 20 == 10; newest is i = 9990
    expect(blocks).toContain('`v1.9990`');
    expect(blocks).not.toContain('`v1.9980`');
    const first = { channel: CHANNEL, ts: '', blocks: res.json.blocks, replies: [] };
    expect(blocks).toContain(ACTIONS.logOlder);
    expect(blocks).not.toContain(ACTIONS.logNewer);
    await bot.click(first, ACTIONS.logOlder, 'U0ALICE');
    const older = await bot.slack.waitFor(() => bot.slack.callsTo('response_url').find((c) => JSON.stringify(c.args).includes('`v1.9790`')));
    expect(older.args.replace_original).toBe(true);
    expect(JSON.stringify(older.args.blocks)).not.toContain('`v1.9990`');
    expect(JSON.stringify(older.args.blocks)).toContain(ACTIONS.logNewer);
    await bot.click({ ...first, blocks: older.args.blocks as unknown[] }, ACTIONS.logNewer, 'U0ALICE');
    await bot.slack.waitFor(() => bot.slack.callsTo('response_url').filter((c) => JSON.stringify(c.args).includes('`v1.9990`')).length > 0);
  });

  it('--since counts back from now; bad options are refused privately', async () => {
    const res = await bot.command('/deploys', 'log production --since 10m');
    expect(JSON.stringify(res.json.blocks)).toContain('2 entries match');
    expect((await bot.command('/deploys', 'log production --status nope')).json.text).toMatch(/not a status/);
    expect((await bot.command('/deploys', 'log production --since soon')).json.text).toMatch(/not a time to start from/);
    expect((await bot.command('/deploys', 'log production --colour red')).json.text).toMatch(/not an option/);
  });

  it('--export csv uploads every matching entry of 10,000 as a file', async () => {
    const res = await bot.command('/deploys', 'log production --export csv');
    expect(res.json.text).toMatch(/Exporting production's deployment log as CSV/);
    const [message] = await bot.slack.waitFor(() => {
      const m = fileMessages().filter((f) => (f.files![0] as { name: string }).name === 'deploy-log-production.csv');
      return m.length ? m : undefined;
    }, 15_000);
    const csv = bot.slack.file((message!.files![0] as { id: string }).id)!.bytes!.toString();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('date,environment,kind,version,sha,deployed_by,status,duration_s,deploy_id,notes');
    expect(lines).toHaveLength(N + 1);
    expect(lines[1]).toContain(',v1.0,');
    expect(message!.text).toContain('as <@U0ALICE> asked');
    const json = await bot.command('/deploys', 'log production --export json --status failed');
    expect(json.json.text).toMatch(/JSON/);
    const [j] = await bot.slack.waitFor(() => {
      const m = fileMessages().filter((f) => (f.files![0] as { name: string }).name === 'deploy-log-production.json');
      return m.length ? m : undefined;
    }, 15_000);
    const parsed = JSON.parse(bot.slack.file((j!.files![0] as { id: string }).id)!.bytes!.toString()) as LogEntry[];
    expect(parsed).toHaveLength(N / 10);
    expect(parsed.every((e) => e.status === 'failed')).toBe(true);
  }, 40_000);
});

describe('uploads', () => {
  it('posts a file once when Slack completed the upload but its answer was lost', async () => {
    const before = bot.slack.calls.length;
    const posted = () => fileMessages().filter((f) => (f.files![0] as { title?: string }).title?.startsWith('Deployment log of production') && (f.text ?? '').includes('since 1h'));
    bot.slack.failNext('files.completeUploadExternal', { dropAnswer: true });
    await bot.command('/deploys', 'log production --export csv --since 1h');
    await bot.slack.waitFor(() => posted().length > 0, 15_000);
    // The retried job asks files.info whether the lost completion took effect, sees the share, and ends.
    await bot.slack.waitFor(() => bot.slack.calls.slice(before).some((c) => c.method === 'files.info' && c.response.ok), 15_000);
    await new Promise((ok) => setTimeout(ok, 1500));
    expect(posted()).toHaveLength(1);
    const calls = bot.slack.calls.slice(before).map((c) => c.method).filter((m) => m.startsWith('files.'));
    expect(calls.filter((m) => m === 'files.completeUploadExternal')).toHaveLength(1);
    expect(calls.filter((m) => m === 'files.getUploadURLExternal')).toHaveLength(1);
  }, 30_000);
});

describe('/metrics', () => {
  it('exports the four DORA numbers per environment, computed from the stored log', async () => {
    const body = await (await fetch(bot.url.replace('/slack/events', '/metrics'))).text();
    expect(body).toMatch(/shipmate_dora_deployment_frequency_per_week\{env="production"\} 2100\n/);
    expect(body).toMatch(/shipmate_dora_lead_time_seconds\{env="production"\} 7200\n/);
    expect(body).toMatch(/shipmate_dora_change_failure_ratio\{env="production"\} 0\.\d+/);
    expect(body).toMatch(/shipmate_dora_time_to_restore_seconds\{env="production"\} 240\n/);
    expect(body).toMatch(/shipmate_dora_deployment_frequency_per_week\{env="staging"\} 0\n/);
    expect(body).not.toMatch(/shipmate_dora_lead_time_seconds\{env="staging"\}/);
  });
});

describe('App Home board', () => {
  it('shows every environment and the last 30 days of DORA numbers', async () => {
    await bot.homeOpened('U0BOB');
    const view = await bot.slack.waitFor(() => bot.slack.homeOf('U0BOB'));
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('DORA metrics, last 30 days');
    expect(text).toMatch(/\*production\* — deployment frequency: 9000 deploys \(2100 a week\) \(Elite\)/);
    expect(text).toContain('*staging* — deployment frequency: 0 deploys');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });

  it('shows production\'s chart as an uploaded image, uploaded again only when the numbers change', async () => {
    type Image = { type: 'image'; slack_file: { id: string }; alt_text: string };
    const uploads = () => bot.slack.callsTo('files.getUploadURLExternal').filter((c) => String(c.args.filename).startsWith('dora-production-')).length;
    const imageOn = (user: string) => ((bot.slack.homeOf(user)?.blocks ?? []) as Image[]).find((b) => b.type === 'image');
    await bot.homeOpened('U0CAROL');
    // The first Home asks for the chart; once uploaded, the Homes of recent viewers are published again with it.
    const first = await bot.slack.waitFor(() => imageOn('U0CAROL'), 20_000);
    expect(first.slack_file.id).toMatch(/^F\w+$/);
    expect(first.alt_text).toContain('production');
    const file = bot.slack.file(first.slack_file.id)!;
    expect(file.bytes!.subarray(1, 4).toString()).toBe('PNG');
    expect(file.channels).toEqual([]); // the app's own file: nothing posted anywhere
    expect(uploads()).toBe(1); // Bob's Home and Carol's asked for the same numbers: one upload
    await bot.slack.waitFor(() => imageOn('U0BOB')?.slack_file.id === first.slack_file.id, 10_000);
    // The same numbers again: the same file, nothing rendered or uploaded.
    const published = bot.slack.callsTo('views.publish').length;
    await bot.homeOpened('U0CAROL');
    await bot.slack.waitFor(() => bot.slack.callsTo('views.publish').length > published);
    expect(imageOn('U0CAROL')).toEqual(first);
    expect(uploads()).toBe(1);
    // A deploy failed just now: new numbers. The chart is minutes old: kept for now (titled with its time), not redrawn.
    await bot.shipmate.deps.store.appendLog({ deployId: 'home-1', env: 'production', version: 'v9', ref: 'v9', deployedBy: 'U0BOB', status: 'failed', at: Date.now() - 60_000, notes: [] });
    const again = bot.slack.callsTo('views.publish').length;
    await bot.homeOpened('U0CAROL');
    await bot.slack.waitFor(() => bot.slack.callsTo('views.publish').length > again);
    expect(imageOn('U0CAROL')?.slack_file).toEqual(first.slack_file);
    expect(JSON.stringify(bot.slack.homeOf('U0CAROL'))).toMatch(/production — last 30 days \(as of \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    await new Promise((ok) => setTimeout(ok, 500));
    expect(uploads()).toBe(1);
    // Ten minutes later (the chart's time moved back), the new numbers are drawn, uploaded once and shown.
    const { redis, prefix } = bot.shipmate.deps;
    await redis.hset(`${prefix}:home-chart:production`, 'at', String(Number(await redis.hget(`${prefix}:home-chart:production`, 'at')) - 11 * 60_000));
    await bot.homeOpened('U0CAROL');
    const second = await bot.slack.waitFor(() => (imageOn('U0CAROL')?.slack_file.id !== first.slack_file.id ? imageOn('U0CAROL') : undefined), 20_000);
    expect(uploads()).toBe(2);
    expect(bot.slack.file(second!.slack_file.id)!.bytes!.equals(file.bytes!)).toBe(false);
  }, 60_000);
});
