// Failing and timed-out steps, one deploy per environment at a time, and the Cancel button.
import { beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { CHANNEL, allText, eventually, type TestBot, useTestBot, waitForEnd } from '../helpers/harness.js';

const useBot = useTestBot({ configYaml: PIPELINE_YAML });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const finished = (id: string) => waitForEnd(bot, id);

function idFrom(text: string): string {
  const m = /deploy #(\d+)/.exec(text);
  if (!m?.[1]) throw new Error(`no deploy id in ${text}`);
  return m[1];
}

describe('a failing step', () => {
  it('stops the pipeline, shows the failure with its output, and logs a failed deploy', async () => {
    const res = await bot.command('/deploy', 'prod v2.0.0', 'U0BOB');
    const id = idFrom(res.json.text);
    const record = await finished(id);
    expect(record.status).toBe('failed');
    expect(record.steps.map((s) => s.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(record.steps[1]?.exitCode).toBe(3);
    expect(record.error).toContain('Step “Deploy” failed: exit code 3');
    const status = await eventually(() => {
      const m = bot.statusMessage(id);
      return m && allText(m).includes(':x: Failed') ? m : undefined;
    });
    expect(allText(status)).toContain('2. Deploy* — failed after');
    expect(allText(status)).toContain('exit code 3');
    const thread = bot.slack.thread(CHANNEL, status.ts).slice(1);
    expect(thread).toHaveLength(2);
    expect(allText(thread[1]!)).toContain('boom: cannot reach cluster');
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes(`Deploy #${id}`)));
    expect(allText(log)).toContain(':x: Failed');
    expect(allText(log)).toContain('exit code 3');
    // a failed deploy does not become the environment's current version
    expect(await bot.shipmate.deps.store.envState('production')).toBeUndefined();
  });
});

describe('a timed-out step', () => {
  it('is terminated at its timeout and fails the deploy', async () => {
    const started = Date.now();
    const res = await bot.command('/deploy', 'slow v1', 'U0ALICE');
    const record = await finished(idFrom(res.json.text));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(record.status).toBe('failed');
    expect(record.steps[0]).toMatchObject({ status: 'failed', error: 'timed out after 1 s' });
    expect(record.steps[1]?.status).toBe('skipped');
  });
});

describe('one deploy per environment at a time', () => {
  it('queues the second deploy with its position and runs it after the first', async () => {
    const first = await bot.command('/deploy', 'long v1', 'U0ALICE');
    const second = await bot.command('/deploy', 'long v2', 'U0BOB');
    expect(first.json.text).toMatch(/nothing is ahead of it, so it starts right away/);
    expect(second.json.text).toMatch(/it waits for 1 long deploy ahead of it\./);
    const a = idFrom(first.json.text);
    const b = idFrom(second.json.text);
    await eventually(async () => (await bot.shipmate.deps.store.get(a))?.steps[1]?.status === 'running', 10_000, 'first deploy in its long step');
    expect((await bot.shipmate.deps.store.get(b))?.status).toBe('queued');
    const queuedMsg = await eventually(() => {
      const m = bot.statusMessage(b);
      return m && allText(m).includes('position 2') ? m : undefined;
    });
    expect(allText(queuedMsg)).toContain(ACTIONS.cancelDeploy);

    // Cancel the queued one: it leaves the queue at once and never runs.
    await bot.click(queuedMsg, ACTIONS.cancelDeploy, 'U0BOB');
    const cancelled = await finished(b);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'U0BOB' });
    expect(cancelled.steps.every((s) => s.status === 'skipped')).toBe(true);
    await eventually(() => allText(bot.statusMessage(b)!).includes('Cancelled by <@U0BOB>'));

    // Stop the running one: its sleeping command is terminated and later steps do not run.
    const runningMsg = bot.statusMessage(a)!;
    const clickedAt = Date.now();
    await bot.click(runningMsg, ACTIONS.cancelDeploy, 'U0ALICE');
    const stopped = await finished(a);
    expect(Date.now() - clickedAt).toBeLessThan(6_000);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.cancelledBy).toBe('U0ALICE');
    expect(stopped.steps.map((s) => s.status)).toEqual(['passed', 'cancelled', 'skipped']);
    await eventually(() => allText(bot.statusMessage(a)!).includes('Cancelled by <@U0ALICE>'));
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix);
    expect(trail.map((t) => t.action)).toEqual(expect.arrayContaining(['deploy.cancelled', 'deploy.stop-requested']));
  });

  it('runs deploys of one environment strictly one after the other', async () => {
    const ids: string[] = [];
    for (const v of ['v10', 'v11', 'v12']) ids.push(idFrom((await bot.command('/deploy', `stage ${v}`, 'U0ALICE')).json.text));
    const records = await Promise.all(ids.map(finished));
    expect(records.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    for (let i = 1; i < records.length; i++) expect(records[i]!.startedAt!).toBeGreaterThanOrEqual(records[i - 1]!.finishedAt!);
    expect((await bot.shipmate.deps.store.envState('staging'))?.version).toBe('v12');
  });

  it('refuses a cancel from someone who neither asked nor may deploy there', async () => {
    const res = await bot.command('/deploy', 'prod v3', 'U0ALICE');
    const id = idFrom(res.json.text);
    const msg = await eventually(() => bot.statusMessage(id));
    await bot.click(msg, ACTIONS.cancelDeploy, 'U0MALLORY');
    const reply = await eventually(() => bot.slack.ephemerals('U0MALLORY').find((m) => (m.text ?? '').includes('can cancel')));
    expect(reply.text).toContain(`Only <@U0ALICE> or someone allowed to deploy to production can cancel deploy #${id}`);
    expect((await finished(id)).cancelledBy).toBeUndefined();
  });

  it('tells the clicker when the deploy has already ended', async () => {
    const res = await bot.command('/deploy', 'stage v20', 'U0ALICE');
    const id = idFrom(res.json.text);
    await finished(id);
    const msg = bot.slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.args.blocks ?? '').includes(`Deploy #${id} `));
    expect(msg).toBeDefined();
    await bot.click({ channel: CHANNEL, ts: msg!.response.ts as string, blocks: msg!.args.blocks as unknown[], replies: [] } as never, ACTIONS.cancelDeploy, 'U0ALICE', id);
    const reply = await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => (m.text ?? '').includes('already ended')));
    expect(reply.text).toContain(`Deploy #${id} has already ended (succeeded)`);
  });
});
