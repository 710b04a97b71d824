// Clicks that race: the audit trail records only what took effect (written in the same atomic step as the
// change), and the click that lost is told why instead of being met with silence.
// The clock is frozen so two clicks always carry the same timestamp (they could not be told apart by time).
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readDeployAudit, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { CHANNEL, allText, eventually, headerText, useTestBot, type TestBot } from '../helpers/harness.js';

const YAML = `
roles:
  engineers: { users: [U0ALICE, U0BOB] }
  tech_lead: { label: Tech Lead, users: [U0TARA, U0TOM] }
  product_owner: { label: Product Owner, users: [U0PRIYA] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    postDeploySignoff: { role: product_owner, label: Product team }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('staging up')"] }
  - name: production
    aliases: [prod]
    approvals: { required: 1, roles: [tech_lead], notify: none }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('production up')"] }
  - name: hotfix
    approvals: { required: 2, roles: [tech_lead, product_owner], distinctRoles: true, notify: none }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('hotfix up')"] }
`;

const FROZEN = 1_760_000_000_000;
const useBot = useTestBot({ configYaml: YAML, now: () => FROZEN });
const idFrom = (text: string) => /[Dd]eploy #(\d+)/.exec(text)?.[1] ?? '';

async function record(bot: TestBot, id: string): Promise<DeployRecord> {
  const r = await bot.shipmate.deps.store.get(id);
  if (!r) throw new Error(`no deploy ${id}`);
  return r;
}

async function gateOf(bot: TestBot, id: string) {
  return eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${id} `)), 10_000, `gate message of #${id}`);
}

async function actions(bot: TestBot, id: string, action: string) {
  return (await readDeployAudit(bot.shipmate.deps.redis, bot.prefix, id)).filter((e) => e.action === action);
}

describe('two approvers racing for the last approval', () => {
  it('15 races at once: one approval.given each, and every loser is told who approved', async () => {
    const bot = useBot();
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(idFrom((await bot.command('/deploy', `prod v2.0.${i}`, 'U0ALICE')).json.text));
    const gates = await Promise.all(ids.map((id) => gateOf(bot, id)));
    const clicks = await Promise.all(
      gates.flatMap((gate, i) => ['U0TARA', 'U0TOM'].map((user) => bot.click(gate, `${ACTIONS.approve}:tech_lead`, user, `${ids[i]}:tech_lead`))),
    );
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    for (const id of ids) {
      const r = await eventually(async () => ((await record(bot, id)).status !== 'pending' ? record(bot, id) : undefined), 10_000, `#${id} to leave pending`);
      expect(r.gates?.approvals).toHaveLength(1);
      const winner = r.gates?.approvals[0]?.user ?? '';
      const loser = winner === 'U0TARA' ? 'U0TOM' : 'U0TARA';
      const given = await actions(bot, id, 'approval.given');
      expect(given.map((g) => g.user)).toEqual([winner]);
      expect(await actions(bot, id, 'gates.met')).toHaveLength(1);
      const told = await eventually(() => bot.slack.ephemerals(loser).find((m) => (m.text ?? '').includes(`deploy #${id} needs no more sign-offs`)), 5_000, `the loser of #${id} to be told`);
      expect(told.text).toContain(`Already approved by <@${winner}>`);
    }
  }, 60_000);
});

describe('approve racing withdraw', () => {
  it('never audits an approval that did not count: the trail matches the record, whoever wins', async () => {
    const bot = useBot();
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(idFrom((await bot.command('/deploy', `hotfix h${i}`, 'U0ALICE')).json.text));
    const gates = await Promise.all(ids.map((id) => gateOf(bot, id)));
    // Each race: the requester's withdraw modal is open; its submission and an approval land together.
    await Promise.all(
      gates.map(async (gate, i) => {
        const id = ids[i] ?? '';
        const before = bot.slack.callsTo('views.open').length;
        await bot.click(gate, ACTIONS.withdrawDeploy, 'U0ALICE', id);
        const opened = await eventually(() => bot.slack.callsTo('views.open').slice(before).find((c) => (c.args.view as { private_metadata?: string }).private_metadata === id));
        const view = opened.args.view as { callback_id: string; private_metadata: string };
        const values = { withdraw_reason_block: { withdraw_reason_input: { type: 'plain_text_input', value: 'superseded by a newer fix' } } };
        // Staggered by a millisecond per race, so some approvals land just before the withdrawal and some just after.
        const approve = new Promise((ok) => setTimeout(ok, i)).then(() => bot.click(gate, `${ACTIONS.approve}:tech_lead`, 'U0TARA', `${id}:tech_lead`));
        await Promise.all([bot.submitView({ ...view, state: { values } }, 'U0ALICE'), approve]);
      }),
    );
    let lost = 0;
    for (const id of ids) {
      const r = await eventually(async () => ((await record(bot, id)).status === 'cancelled' ? record(bot, id) : undefined), 10_000, `#${id} withdrawn`);
      const given = await actions(bot, id, 'approval.given');
      expect(given.map((g) => g.user)).toEqual(r.gates?.approvals.map((a) => a.user));
      expect(await actions(bot, id, 'deploy.withdrawn')).toHaveLength(1);
      if (given.length === 0) {
        lost++;
        await eventually(() => bot.slack.ephemerals('U0TARA').find((m) => (m.text ?? '').includes(`Deploy #${id} was withdrawn by <@U0ALICE>`)), 5_000, `Tara told #${id} was withdrawn`);
      }
    }
    // How the races went varies from run to run; the trail must match the record either way.
    console.info(`approve vs withdraw: the approval lost ${lost} of ${ids.length} races`);
  }, 60_000);
});

describe('post-deploy sign-off double click', () => {
  it('is recorded, audited and posted once; the second click is told who signed', async () => {
    const bot = useBot();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(idFrom((await bot.command('/deploy', `staging s${i}`, 'U0ALICE')).json.text));
    const messages = await Promise.all(
      ids.map((id) =>
        eventually(() => {
          const m = bot.statusMessage(id);
          return m && allText(m).includes(ACTIONS.postDeploySignoff) ? m : undefined;
        }, 15_000, `#${id} to wait for its sign-off`),
      ),
    );
    await Promise.all(messages.flatMap((m, i) => [bot.click(m, ACTIONS.postDeploySignoff, 'U0PRIYA', ids[i]), bot.click(m, ACTIONS.postDeploySignoff, 'U0PRIYA', ids[i])]));
    for (const [i, id] of ids.entries()) {
      await eventually(() => bot.slack.ephemerals('U0PRIYA').find((m) => (m.text ?? '').includes(`Deploy #${id} was already signed off by <@U0PRIYA>`)), 5_000, `second click on #${id} told`);
      await eventually(() => bot.slack.messages('C0DEPLOYLOG').some((m) => (m.text ?? '').includes(`Deploy #${id} (`)), 5_000, 'the sign-off in the deploy log');
      expect(await actions(bot, id, 'signoff.given')).toHaveLength(1);
      expect(bot.slack.messages('C0DEPLOYLOG').filter((m) => (m.text ?? '').includes(`Deploy #${id} (`) && (m.text ?? '').includes('sign-off by'))).toHaveLength(1);
      // The thread is another channel's queue than the log: it may arrive a moment later, and once.
      await eventually(() => bot.slack.thread(CHANNEL, messages[i]?.ts ?? '').some((m) => (m.text ?? '').includes('sign-off by')), 5_000, 'the sign-off in the thread');
      expect(bot.slack.thread(CHANNEL, messages[i]?.ts ?? '').filter((m) => (m.text ?? '').includes('sign-off by'))).toHaveLength(1);
    }
  }, 60_000);
});
