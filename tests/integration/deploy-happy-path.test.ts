// /deploy end to end through the real receiver: ack, status message, steps, thread output, log entry, /deploys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockLimitProblems } from '../../playground/slack-standin/block-limits.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { BOT_TOKEN, CHANNEL, allText, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

let bot: TestBot;
let redisUrl: string;

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  bot = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl, env: { DEPLOY_TOKEN: 'sekrit-deploy-token-42' } });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

describe('/deploy happy path', () => {
  it('acks privately at once, runs every step, updates the status message and logs the deploy', async () => {
    const res = await bot.command('/deploy', 'stage v1.4.0', 'U0ALICE');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toMatch(/Deploying `v1\.4\.0` to \*staging\* \(deploy #1\) — nothing is ahead of it, so it starts right away/);

    const done = await eventually(() => {
      const m = bot.statusMessage('1');
      return m && allText(m).includes('Succeeded') ? m : undefined;
    }, 15_000, 'the status message to say Succeeded');
    expect(done.channel).toBe(CHANNEL);
    const text = allText(done);
    expect(text).toContain('Deploy #1 · v1.4.0 → staging');
    expect(text).toMatch(/1\. Build — [\d.]+ (ms|s)/);
    expect(text).toMatch(/3\. Release — [\d.]+ (ms|s)/);
    expect(text).not.toContain('shipmate_cancel_deploy');

    // the status message was edited in place (edits coalesce: the latest state wins), never posted twice
    const updates = bot.slack.callsTo('chat.update').filter((c) => c.args.ts === done.ts);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(bot.slack.messages(CHANNEL).filter((m) => headerText(m).includes('Deploy #1 ·'))).toHaveLength(1);

    // step output in the thread, secrets masked
    const thread = bot.slack.thread(CHANNEL, done.ts).slice(1);
    expect(thread).toHaveLength(3);
    const buildOutput = allText(thread[0]!);
    expect(buildOutput).toContain('building v1.4.0 for staging token ••••••');
    expect(buildOutput).not.toContain('sekrit-deploy-token-42');
    expect(allText(thread[1]!)).toContain('migrating as U0ALICE');
    expect(JSON.stringify(bot.slack.calls)).not.toContain('sekrit-deploy-token-42');
    expect(bot.logs.raw()).not.toContain('sekrit-deploy-token-42');
    expect(bot.logs.raw()).not.toContain(BOT_TOKEN);

    // exactly one deployment-log entry
    const log = await eventually(() => { const m = bot.slack.messages('C0DEPLOYLOG'); return m.length ? m : undefined; }, 5000, 'log entry');
    expect(log).toHaveLength(1);
    const entry = allText(log[0]!);
    expect(entry).toContain('v1.4.0');
    expect(entry).toContain('<@U0ALICE>');
    expect(entry).toContain('Succeeded');
    expect(entry).toMatch(/Duration\*\\n[\d.]+ (ms|s)/);

    for (const m of [...bot.slack.messages(), ...bot.slack.ephemerals()]) {
      expect(blockLimitProblems((m.blocks ?? []) as unknown[], 'message')).toEqual([]);
    }
  });

  it('/deploys shows each environment, its current version and the log', async () => {
    const res = await bot.command('/deploys', '', 'U0BOB');
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.json);
    expect(res.json.response_type).toBe('ephemeral');
    expect(text).toContain('*staging* (stage)');
    expect(text).toMatch(/Current: `v1\.4\.0` by <@U0ALICE>/);
    expect(text).toContain('*production* (prod)');
    expect(text).toContain('nothing deployed through Shipmate yet');
    expect(text).toContain('Deployment log');
    expect(blockLimitProblems(res.json.blocks, 'message')).toEqual([]);
  });

  it('/healthz reports Redis and the queues; /metrics serves prom-client and BullMQ metrics', async () => {
    const base = bot.url.replace('/slack/events', '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { ok: boolean; redis: string; queues: Record<string, unknown> };
    expect(body.ok).toBe(true);
    expect(body.redis).toBe('reachable');
    expect(Object.keys(body.queues)).toEqual(['staging', 'production', 'slow', 'long']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('shipmate_process_cpu_user_seconds_total');
    expect(metrics).toMatch(/bullmq_job_count\{.*queue="deploy\.staging"/);
    expect(metrics).toMatch(/bullmq_job_count\{.*queue="watch"/); // parked canary/monitor holds
    expect(metrics).toContain('shipmate_deploys_total{env="staging",status="succeeded",kind="deploy"} 1');
    expect(metrics).toMatch(/shipmate_deploy_duration_seconds_count\{env="staging",status="succeeded"\} 1/);
  });
});

describe('when Slack fails', () => {
  it('the deploy still runs to the end and its log entry is stored', async () => {
    const other = await startTestBot({ configYaml: PIPELINE_YAML, redisUrl });
    try {
      other.slack.failNext('*', { error: 'internal_error' }, 10_000);
      const res = await other.command('/deploy', 'stage v9.9.9', 'U0ALICE');
      expect(res.json.text).toContain('Deploying `v9.9.9`');
      const record = await eventually(async () => {
        const r = await other.shipmate.deps.store.get('1');
        return r?.status === 'succeeded' ? r : undefined;
      }, 15_000, 'the deploy to succeed with Slack down');
      expect(record.statusTs).toBeUndefined();
      // The log entry is written just after the final status (Slack's failed status update comes first).
      await eventually(async () => (await other.shipmate.deps.store.recentLog(5)).length > 0, 5_000, 'the log entry');
      expect((await other.shipmate.deps.store.recentLog(5)).map((e) => e.version)).toEqual(['v9.9.9']);
      expect(other.logs.lines().some((l) => l.msg === 'slack message not delivered yet; retrying')).toBe(true);
    } finally {
      await other.stop();
    }
  });
});
