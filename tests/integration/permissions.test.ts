// Who may do what: Withdraw (requester or an approver, with a reason, told in the gate thread), Stop/Cancel
// (the environment's deployers or the requester), /rollback's confirmation (deployers only) and gate paging
// (only those who can act). Every refusal is private and audited, and changes nothing.
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readAudit, readDeployAudit, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { CHANNEL, allText, eventually, headerText, useTestBot, waitForEnd, type TestBot } from '../helpers/harness.js';
import { clickInReply, withdrawVia } from '../helpers/interactions.js';

// 19 one-item sections: more than one page of checklist in the gate message.
const MANY_SECTIONS = Array.from({ length: 19 }, (_, i) => `      - { section: Area ${i + 1}, items: [{ id: item${i + 1}, text: Item ${i + 1} checked }] }`).join('\n');

const YAML = `
roles:
  engineers: { users: [U0ALICE, U0BOB] }
  tech_lead: { label: Tech Lead, users: [U0TARA] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    deployers: [engineers]
    steps:
      - { name: Deploy, run: [node, -e, "console.log('staging up')"] }
  - name: production
    aliases: [prod]
    deployers: [engineers]
    approvals: { required: 1, roles: [tech_lead], notify: none }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('production up')"] }
  - name: long
    deployers: [engineers]
    steps:
      - { name: Long, run: [sleep, "20"] }
  - name: audit-env
    deployers: [engineers]
    checklist:
${MANY_SECTIONS}
    steps:
      - { name: Deploy, run: [node, -e, "console.log('up')"] }
`;

const useBot = useTestBot({ configYaml: YAML });
const idFrom = (text: string) => /[Dd]eploy #(\d+)/.exec(text)?.[1] ?? '';

async function record(bot: TestBot, id: string): Promise<DeployRecord> {
  const r = await bot.shipmate.deps.store.get(id);
  if (!r) throw new Error(`no deploy ${id}`);
  return r;
}

const gateOf = (bot: TestBot, id: string, until: (t: string) => boolean = () => true) =>
  eventually(() => {
    const m = bot.slack.messages(CHANNEL).find((x) => headerText(x).includes(`Gates for deploy #${id} `));
    return m && until(allText(m)) ? m : undefined;
  }, 10_000, `gate message of #${id}`);

const toldPrivately = (bot: TestBot, user: string, text: string) =>
  eventually(() => bot.slack.ephemerals(user).find((m) => (m.text ?? '').includes(text)), 5_000, `${user} to be told "${text}"`);

describe('Withdraw', () => {
  it('is refused (and audited) for someone who neither asked nor approves, deployers included', async () => {
    const bot = useBot();
    const id = idFrom((await bot.command('/deploy', 'prod v1.0.0', 'U0ALICE')).json.text);
    const gate = await gateOf(bot, id);
    for (const stranger of ['U0MALLORY', 'U0BOB']) {
      await withdrawVia(bot, gate, id, stranger, 'not mine to drop', { expectModal: false });
      const told = await toldPrivately(bot, stranger, `can withdraw deploy #${id}`);
      expect(told.text).toContain(`Only <@U0ALICE> or someone holding a sign-off role for production (Tech Lead)`);
    }
    // a forged submission of the modal (without the button) is refused the same way, under the input
    const forged = await bot.submitView({ callback_id: 'shipmate_withdraw_reason', private_metadata: id, state: { values: { withdraw_reason_block: { withdraw_reason_input: { type: 'plain_text_input', value: 'forged reason here' } } } } }, 'U0MALLORY');
    expect(forged.json).toEqual({ response_action: 'errors', errors: { withdraw_reason_block: expect.stringContaining('can withdraw') } });
    expect((await record(bot, id)).status).toBe('pending');
    const refused = (await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).filter((e) => e.action === 'deploy.withdraw-refused');
    expect(refused.map((e) => e.user)).toEqual(['U0MALLORY', 'U0BOB', 'U0MALLORY']);
  });

  it('an approver withdraws with a reason: told in the gate thread, the gate message and the deploy log', async () => {
    const bot = useBot();
    const id = idFrom((await bot.command('/deploy', 'prod v1.0.1', 'U0ALICE')).json.text);
    const gate = await gateOf(bot, id);
    const short = await withdrawVia(bot, gate, id, 'U0TARA', 'no');
    expect(short?.json).toEqual({ response_action: 'errors', errors: { withdraw_reason_block: expect.stringContaining('Say why') } });
    const ok = await withdrawVia(bot, gate, id, 'U0TARA', 'the release notes are wrong');
    expect(ok?.status).toBe(200);
    const r = await eventually(async () => ((await record(bot, id)).status === 'cancelled' ? record(bot, id) : undefined));
    expect(r).toMatchObject({ cancelledBy: 'U0TARA', gates: { withdrawn: { user: 'U0TARA', reason: 'the release notes are wrong' } } });
    const inThread = await eventually(() => bot.slack.thread(CHANNEL, gate.ts).find((m) => (m.text ?? '').includes('withdrew')));
    expect(inThread.text).toContain(`<@U0TARA> withdrew deploy #${id}`);
    expect(inThread.text).toContain('requested by <@U0ALICE>');
    expect(inThread.text).toContain('the release notes are wrong');
    await gateOf(bot, id, (t) => t.includes('*Withdrawn* by <@U0TARA>'));
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes(`Deploy #${id}`)));
    expect(allText(log)).toContain('withdrawn by <@U0TARA> before its gates were met: the release notes are wrong');
    const trail = await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id);
    expect(trail.filter((e) => e.action === 'deploy.withdrawn')).toEqual([expect.objectContaining({ user: 'U0TARA', detail: 'the release notes are wrong' })]);
    // the Cancel button of a status message does not withdraw a pending deploy behind the gates' back
    const pending = idFrom((await bot.command('/deploy', 'prod v1.0.2', 'U0ALICE')).json.text);
    await bot.click({ channel: CHANNEL, ts: '1.1', blocks: [], replies: [] } as never, ACTIONS.cancelDeploy, 'U0ALICE', pending);
    await toldPrivately(bot, 'U0ALICE', `Deploy #${pending} has not started`);
    expect((await record(bot, pending)).status).toBe('pending');
  });
});

describe('Stop / Cancel', () => {
  it('only the requester or the environment’s deployers may stop a running deploy; refusals are audited', async () => {
    const bot = useBot();
    const id = idFrom((await bot.command('/deploy', 'long v1', 'U0ALICE')).json.text);
    await eventually(async () => (await record(bot, id)).status === 'running', 10_000, 'the long deploy to run');
    const msg = await eventually(() => bot.statusMessage(id));
    await bot.click(msg, ACTIONS.cancelDeploy, 'U0TARA'); // an approver elsewhere, not a deployer here
    await toldPrivately(bot, 'U0TARA', `Only <@U0ALICE> or someone allowed to deploy to long can cancel deploy #${id}`);
    expect((await record(bot, id)).cancelRequestedBy).toBeUndefined();
    // a deployer who did not ask may; a second stop is told it was already asked
    await bot.click(msg, ACTIONS.cancelDeploy, 'U0BOB');
    await bot.click(msg, ACTIONS.cancelDeploy, 'U0ALICE');
    await toldPrivately(bot, 'U0ALICE', `A stop of deploy #${id} was already requested by <@U0BOB>`);
    expect(await waitForEnd(bot, id)).toMatchObject({ status: 'cancelled', cancelledBy: 'U0BOB' });
    const trail = (await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).map((e) => `${e.action}:${e.user}`);
    expect(trail).toContain('deploy.cancel-refused:U0TARA');
    expect(trail.filter((t) => t.startsWith('deploy.stop-requested'))).toEqual(['deploy.stop-requested:U0BOB']);
  });
});

describe('/rollback', () => {
  it('is refused and audited for a non-deployer, at the command and at a forged confirmation', async () => {
    const bot = useBot();
    for (const v of ['v1', 'v2']) await waitForEnd(bot, idFrom((await bot.command('/deploy', `staging ${v}`, 'U0ALICE')).json.text));
    const refused = await bot.command('/rollback', 'staging', 'U0TARA');
    expect(refused.json.text).toContain('You may not roll back staging: that needs the Engineers role');
    // Alice asks; someone else's click on her question (only a forged request could do it) is refused too
    const ask = await bot.command('/rollback', 'staging', 'U0ALICE');
    expect(ask.json.text).toBe('Roll back staging from v2 to v1?');
    await clickInReply(bot, ask.json, ACTIONS.rollbackConfirm, 'U0TARA');
    await toldPrivately(bot, 'U0TARA', 'You may not roll back staging');
    expect((await bot.shipmate.deps.store.active()).filter((d) => d.env === 'staging')).toEqual([]);
    const trail = (await readAudit(bot.shipmate.deps.redis, bot.prefix)).filter((e) => e.action.startsWith('rollback.'));
    expect(trail.map((e) => `${e.action}:${e.user}`)).toEqual(['rollback.refused:U0TARA', 'rollback.refused:U0TARA']);
  });
});

describe('gate paging', () => {
  it('changes nothing for someone who cannot act on the deploy, and says so privately', async () => {
    const bot = useBot();
    const id = idFrom((await bot.command('/deploy', 'audit-env v1', 'U0ALICE')).json.text);
    const gate = await gateOf(bot, id, (t) => t.includes('Checklist page 1 of 2'));
    await bot.click(gate, `${ACTIONS.gatePage}:next`, 'U0MALLORY');
    await toldPrivately(bot, 'U0MALLORY', 'can turn its checklist pages');
    expect((await record(bot, id)).gates?.page).toBe(0);
    expect((await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).some((e) => e.action === 'page.refused' && e.user === 'U0MALLORY')).toBe(true);
    await bot.click(gate, `${ACTIONS.gatePage}:next`, 'U0BOB');
    await gateOf(bot, id, (t) => t.includes('Checklist page 2 of 2'));
    expect((await record(bot, id)).gates?.page).toBe(1);
  });
});
