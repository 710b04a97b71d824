// Bad input, unauthorized users and forged requests: a clear private reply, nothing enqueued, nothing posted.
import { beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { sendToBot, slashCommandBody } from '../../playground/slack-standin/requests.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { SIGNING_SECRET, type TestBot, useTestBot } from '../helpers/harness.js';

const useBot = useTestBot({ configYaml: PIPELINE_YAML });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

async function nothingQueued(): Promise<void> {
  const counts = await bot.shipmate.deps.queues.counts();
  for (const c of Object.values(counts)) expect((c.waiting ?? 0) + (c.active ?? 0) + (c.completed ?? 0) + (c.failed ?? 0)).toBe(0);
  expect(await bot.shipmate.deps.store.active()).toEqual([]);
  expect(bot.slack.callsTo('chat.postMessage')).toEqual([]);
}

describe('/deploy refuses bad input privately', () => {
  it.each([
    ['prodution v1', /no environment `prodution`\. Did you mean `production`\?[\s\S]*Environments: staging \(stage\), production \(prod\)/],
    ['stagin', /Did you mean `staging`\?/],
    ['qa v1', /There is no environment `qa`\.[\s\S]*Usage/],
    ['staging v1 extra', /Too many words/],
    ['staging --force', /Unknown option `--force`/],
    ['staging -rf', /starts with "-"/],
    ['staging v1;rm', /characters not allowed/],
    ['staging $(whoami)', /characters not allowed/],
    ['staging `id`', /characters not allowed/],
    ['staging a..b', /not a tag, branch or commit sha/],
    ['staging main.lock', /not a tag, branch or commit sha/],
    ['staging feature/', /not a tag, branch or commit sha/],
  ])('/deploy %j', async (text, reply) => {
    const res = await bot.command('/deploy', text, 'U0ALICE');
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toMatch(reply);
    await nothingQueued();
  });

  it('accepts tag, branch and sha shapes', async () => {
    const { parseDeployText } = await import('../../commands/deploy.js');
    const { refProblem } = await import('../../src/core/refs.js');
    for (const ref of ['v1.4.0', 'main', 'release/1.4', 'a1b2c3d', 'feature/JIRA-12_fix', '1.4.0-rc.1+build.5']) {
      expect(refProblem(ref)).toBeUndefined();
    }
    expect(parseDeployText('prod v1.4.0', bot.config)).toEqual({ env: 'prod', ref: 'v1.4.0', dryRun: false, sensitive: false, quiet: false, notify: [], hotfix: false });
    expect(parseDeployText('prod v1.4.0 --dry-run', bot.config)).toEqual({ env: 'prod', ref: 'v1.4.0', dryRun: true, sensitive: false, quiet: false, notify: [], hotfix: false });
    expect(parseDeployText('--sensitive prod v1.4.0', bot.config)).toEqual({ env: 'prod', ref: 'v1.4.0', dryRun: false, sensitive: true, quiet: false, notify: [], hotfix: false });
  });

  it('refuses a user without a deployer role for production, logs and audits it', async () => {
    const res = await bot.command('/deploy', 'prod v1.4.0', 'U0MALLORY');
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toMatch(/You may not deploy to production: that needs the Deployers role/);
    await nothingQueued();
    const warn = bot.logs.lines().find((l) => l.msg === 'command refused: not authorized');
    expect(warn).toMatchObject({ user: 'U0MALLORY', command: '/deploy', level: 40 });
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix);
    expect(trail[0]).toMatchObject({ action: 'deploy.refused', user: 'U0MALLORY', env: 'production' });
  });

  it('/deploys with an unknown environment names the nearest one', async () => {
    const res = await bot.command('/deploys', 'prd');
    expect(res.json.text).toMatch(/Did you mean `production`\?/);
  });
});

describe('forged and stale requests get nothing', () => {
  const body = () => slashCommandBody({ command: '/deploy', text: 'staging v1', user_id: 'U0ALICE', channel_id: 'C0RELEASES', response_url: bot.slack.responseUrlFor({ user: 'U0ALICE' }) });

  it('rejects a request signed with another secret', async () => {
    const res = await sendToBot(bot.url, body(), SIGNING_SECRET, { badSignature: true });
    expect(res.status).toBe(401);
    await nothingQueued();
  });

  it('rejects a correctly signed request older than five minutes (replay)', async () => {
    const res = await sendToBot(bot.url, body(), SIGNING_SECRET, { timestampSec: Math.floor(Date.now() / 1000) - 10 * 60 });
    expect(res.status).toBe(401);
    await nothingQueued();
  });

  it('rejects a request with no signature at all', async () => {
    const res = await fetch(bot.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body() });
    expect(res.status).toBe(401);
    await nothingQueued();
  });

  it('never logs signatures or response URLs', () => {
    const raw = bot.logs.raw();
    expect(raw).not.toMatch(/v0=[0-9a-f]{64}/);
    expect(raw).not.toContain(bot.slack.origin + '/response');
  });
});
