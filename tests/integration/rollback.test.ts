// /rollback: back to the previous good version (or a named one that succeeded there), through the same queue.
import { beforeEach, describe, expect, it } from 'vitest';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { allText, deployIdFrom, eventually, headerText, type TestBot, useTestBot, waitForEnd } from '../helpers/harness.js';

const useBot = useTestBot({ configYaml: PIPELINE_YAML });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const idFrom = deployIdFrom;
const done = (id: string) => waitForEnd(bot, id);

describe('/rollback', () => {
  it('says when there is nothing to roll back to', async () => {
    const res = await bot.command('/rollback', 'stage', 'U0ALICE');
    expect(res.json.text).toContain('Nothing to roll back to: staging has no earlier good version');
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
  });

  it('rolls back to the previous good version by default, and logs it as a rollback', async () => {
    await done(idFrom((await bot.command('/deploy', 'stage v1.0.0', 'U0ALICE')).json.text));
    await done(idFrom((await bot.command('/deploy', 'stage v1.1.0', 'U0ALICE')).json.text));
    const res = await bot.command('/rollback', 'stage', 'U0BOB');
    expect(res.json.text).toMatch(/Rolling staging back to `v1\.0\.0` \(from `v1\.1\.0`\) — rollback #3/);
    const r = await done('3');
    expect(r).toMatchObject({ status: 'succeeded', kind: 'rollback', version: 'v1.0.0', rollbackFrom: 'v1.1.0', requestedBy: 'U0BOB' });
    expect((await bot.shipmate.deps.store.envState('staging'))?.version).toBe('v1.0.0');
    const msg = await eventually(() => bot.slack.messages().find((m) => headerText(m).includes('Rollback #3 · staging back to v1.0.0 (from v1.1.0)')));
    expect(allText(msg)).toContain('Succeeded');
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes('Rollback #3')));
    expect(allText(log)).toContain('rollback from v1.1.0');
    // logged as a rollback, by whoever rolled back — not as a plain "Succeeded"
    expect(allText(log)).toContain('*Status*\\n:white_check_mark: Rollback succeeded');
    expect(allText(log)).toContain('*Rolled back by*\\n<@U0BOB>');
  });

  it('rolls back to a named version only if it succeeded there before', async () => {
    const bad = await bot.command('/rollback', 'stage v0.1.0', 'U0ALICE');
    expect(bad.json.text).toContain('`v0.1.0` never succeeded on staging');
    expect(bad.json.text).toContain('`v1.0.0`');
    const ok = await bot.command('/rollback', 'stage v1.1.0', 'U0ALICE');
    expect((await done(idFrom(ok.json.text))).version).toBe('v1.1.0');
  });

  it('refuses bad input and unauthorized users privately', async () => {
    expect((await bot.command('/rollback', '', 'U0ALICE')).json.text).toContain('*`/rollback <env> [version]`*');
    expect((await bot.command('/rollback', 'stagin', 'U0ALICE')).json.text).toContain('Did you mean `staging`?');
    expect((await bot.command('/rollback', 'stage $(id)', 'U0ALICE')).json.text).toContain('characters not allowed');
    expect((await bot.command('/rollback', 'prod', 'U0MALLORY')).json.text).toContain('You may not roll back production: that needs the Deployers role.');
  });
});
