// /rollback: asks "Roll back <env> from X to Y?" privately; [Roll back] puts the previous good version (or a named
// one that succeeded there) back through the same queue, once however often it is clicked; [Keep] changes nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { allText, deployIdFrom, eventually, headerText, type TestBot, useTestBot, waitForEnd } from '../helpers/harness.js';
import { clickInReply } from '../helpers/interactions.js';

const useBot = useTestBot({ configYaml: PIPELINE_YAML });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const idFrom = deployIdFrom;
const done = (id: string) => waitForEnd(bot, id);

/** The private reply to the confirmation click (it replaces the question). */
const answerTo = (user: string, text: string) => eventually(() => bot.slack.ephemerals(user).find((m) => (m.text ?? '').includes(text)), 5_000, `"${text}" for ${user}`);

describe('/rollback', () => {
  it('says when there is nothing to roll back to', async () => {
    const res = await bot.command('/rollback', 'stage', 'U0ALICE');
    expect(res.json.text).toContain('Nothing to roll back to: staging has no earlier good version');
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
  });

  it('asks first, then rolls back to the previous good version on [Roll back], once, and logs it as a rollback', async () => {
    await done(idFrom((await bot.command('/deploy', 'stage v1.0.0', 'U0ALICE')).json.text));
    await done(idFrom((await bot.command('/deploy', 'stage v1.1.0', 'U0ALICE')).json.text));
    const res = await bot.command('/rollback', 'stage', 'U0BOB');
    // the question changes nothing by itself
    expect(res.json.text).toBe('Roll back staging from v1.1.0 to v1.0.0?');
    expect(JSON.stringify(res.json.blocks)).toContain(ACTIONS.rollbackConfirm);
    expect(JSON.stringify(res.json.blocks)).toContain(ACTIONS.rollbackKeep);
    expect(await bot.shipmate.deps.store.active()).toEqual([]);

    // a double click on [Roll back] requests one rollback; the second click is told which
    const clicks = await Promise.all([clickInReply(bot, res.json, ACTIONS.rollbackConfirm, 'U0BOB'), clickInReply(bot, res.json, ACTIONS.rollbackConfirm, 'U0BOB')]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    const answer = await answerTo('U0BOB', 'Rolling staging back');
    expect(answer.text).toMatch(/Rolling staging back to `v1\.0\.0` \(from `v1\.1\.0`\) — rollback #3/);
    await answerTo('U0BOB', 'You already confirmed this rollback');
    const r = await done('3');
    expect(r).toMatchObject({ status: 'succeeded', kind: 'rollback', version: 'v1.0.0', rollbackFrom: 'v1.1.0', requestedBy: 'U0BOB' });
    expect(await bot.shipmate.deps.store.get('4')).toBeUndefined();
    expect((await bot.shipmate.deps.store.envState('staging'))?.version).toBe('v1.0.0');
    // delivered after the deploy ends (the message path is asynchronous): wait for the final edit
    const msg = await eventually(() => bot.slack.messages().find((m) => headerText(m).includes('Rollback #3 · staging back to v1.0.0 (from v1.1.0)') && allText(m).includes('Succeeded')));
    expect(allText(msg)).toContain('Succeeded');
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes('Rollback #3')));
    expect(allText(log)).toContain('rollback from v1.1.0');
    // logged as a rollback, by whoever rolled back — not as a plain "Succeeded"
    expect(allText(log)).toContain('*Status*\\n:white_check_mark: Rollback succeeded');
    expect(allText(log)).toContain('*Rolled back by*\\n<@U0BOB>');
    const trail = (await readAudit(bot.shipmate.deps.redis, bot.prefix)).filter((e) => e.action === 'rollback.requested');
    expect(trail).toEqual([expect.objectContaining({ user: 'U0BOB', env: 'staging', deployId: '3', detail: 'v1.1.0 -> v1.0.0' })]);
  });

  it('[Keep] changes nothing; an answer to a question that went stale is refused', async () => {
    const ask = await bot.command('/rollback', 'stage', 'U0ALICE');
    expect(ask.json.text).toBe('Roll back staging from v1.0.0 to v1.1.0?');
    await clickInReply(bot, ask.json, ACTIONS.rollbackKeep, 'U0ALICE');
    await answerTo('U0ALICE', 'Kept — nothing was rolled back');
    // staging moves on before the old question is answered: the answer is refused, nothing queued
    // (the rollback above left staging locked; deploys need it unlocked first)
    expect((await bot.command('/deploys', 'unlock stage', 'U0ALICE')).json.text).toContain('Unlocked *staging*');
    await done(idFrom((await bot.command('/deploy', 'stage v1.2.0', 'U0ALICE')).json.text));
    await clickInReply(bot, ask.json, ACTIONS.rollbackConfirm, 'U0ALICE');
    await answerTo('U0ALICE', 'staging changed since you asked: it runs `v1.2.0` now');
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
  });

  it('rolls back to a named version only if it succeeded there before', async () => {
    const bad = await bot.command('/rollback', 'stage v0.1.0', 'U0ALICE');
    expect(bad.json.text).toContain('`v0.1.0` never succeeded on staging');
    expect(bad.json.text).toContain('`v1.0.0`');
    const ok = await bot.command('/rollback', 'stage v1.1.0', 'U0ALICE');
    expect(ok.json.text).toBe('Roll back staging from v1.2.0 to v1.1.0?');
    await clickInReply(bot, ok.json, ACTIONS.rollbackConfirm, 'U0ALICE');
    const answer = await answerTo('U0ALICE', 'Rolling staging back to `v1.1.0`');
    expect((await done(idFrom(answer.text ?? ''))).version).toBe('v1.1.0');
  });

  it('refuses bad input and unauthorized users privately, and audits the refusal', async () => {
    expect((await bot.command('/rollback', '', 'U0ALICE')).json.text).toContain('*`/rollback <env> [version] [reason]`*');
    expect((await bot.command('/rollback', 'stagin', 'U0ALICE')).json.text).toContain('Did you mean `staging`?');
    expect((await bot.command('/rollback', 'stage $(id)', 'U0ALICE')).json.text).toContain('characters not allowed');
    const refused = await bot.command('/rollback', 'prod', 'U0MALLORY');
    expect(refused.json.text).toContain('You may not roll back production: that needs the Deployers role.');
    expect(refused.json.blocks).toBeUndefined();
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix);
    expect(trail.find((e) => e.action === 'rollback.refused')).toMatchObject({ user: 'U0MALLORY', env: 'production' });
  });
});
