// Gates end to end through the real receiver: checklist ticks (concurrent, double), automatic checks,
// approvals (self, unauthorized, distinct roles, expiry), rejection via modal, promotion, dry run,
// post-deploy sign-off, App Home, and the deploy starting exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS } from '../../blocks/action-ids.js';
import { readAudit, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { blockLimitProblems } from '../../playground/slack-standin/block-limits.js';
import type { StandinMessage } from '../../playground/slack-standin/server.js';
import { CHANNEL, allText, dmsTo, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { withdrawVia } from '../helpers/interactions.js';

const YAML = `
roles:
  engineers: { users: [U0ALICE, U0BOB] }
  tech_lead: { label: Tech Lead, users: [U0TARA, U0ALICE] }
  security_lead: { label: Security Lead, users: [U0SAM] }
  security_team: { label: Security Team, groups: [S0SECURITY] }
  product_owner: { label: Product Owner, users: [U0PRIYA, U0TARA] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    postDeploySignoff: { role: product_owner, label: Product team }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('staging up')"] }
  - name: sandbox
    approvals: { required: 1, roles: [security_team], notify: group }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('sandbox up')"] }
  - name: production
    aliases: [prod]
    deployers: [engineers]
    requires: { succeededOn: staging }
    checklist:
      - section: Infrastructure
        items:
          - { id: backups, text: Backups verified }
          - { id: capacity, text: Capacity checked }
          - id: ci
            text: CI green for this ref
            check: { run: [node, -e, "const r = process.argv[1]; if (r.startsWith('bad')) { console.log('2 failing jobs on ' + r); process.exit(1) }", "{{ref}}"] }
      - section: Security
        items:
          - { id: secrets, text: Secrets rotated }
          - { id: docs, text: Runbook reviewed, required: false }
    approvals: { required: 2, roles: [tech_lead, security_lead, product_owner], distinctRoles: true, expiresAfter: 3s, notify: dm }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('production up')"] }
`;

let bot: TestBot;

beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

const store = () => bot.shipmate.deps.store;
const idFrom = (text: string) => /[Dd]eploy #(\d+)/.exec(text)?.[1] ?? '';

async function record(id: string): Promise<DeployRecord> {
  const r = await store().get(id);
  if (!r) throw new Error(`no deploy ${id}`);
  return r;
}

async function succeed(env: string, version: string): Promise<string> {
  const id = idFrom((await bot.command('/deploy', `${env} ${version}`, 'U0ALICE')).json.text);
  await eventually(async () => (await record(id)).status === 'succeeded', 10_000, `${env} ${version} to succeed`);
  return id;
}

function gateMessage(id: string): StandinMessage | undefined {
  return bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${id} `));
}

/** The gate message as it is now (after the bot's latest update). */
async function freshGate(id: string, until?: (text: string) => boolean): Promise<StandinMessage> {
  return eventually(() => {
    const m = gateMessage(id);
    return m && (!until || until(allText(m))) ? m : undefined;
  }, 10_000, `gate message of #${id}`);
}

async function requestProd(version: string, user = 'U0ALICE'): Promise<string> {
  const res = await bot.command('/deploy', `prod ${version}`, user);
  expect(res.json.text).toMatch(/is waiting for its gates/);
  return idFrom(res.json.text);
}

describe('promotion rules and dry run', () => {
  it('refuses a version that has not succeeded on staging, saying what to do', async () => {
    const res = await bot.command('/deploy', 'prod v0.9.0', 'U0ALICE');
    expect(res.json.text).toContain('`v0.9.0` has not succeeded on *staging* yet');
    expect(res.json.text).toContain('`/deploy staging v0.9.0`');
    expect(await store().active()).toEqual([]);
    expect((await readAudit(bot.shipmate.deps.redis, bot.prefix))[0]).toMatchObject({ action: 'deploy.refused', env: 'production' });
  });

  it('--dry-run lists the gates that apply and what is missing, changing nothing', async () => {
    const before = bot.slack.calls.length;
    const res = await bot.command('/deploy', 'prod v0.9.0 --dry-run', 'U0ALICE');
    const text: string = res.json.text;
    expect(text).toContain('nothing was queued or changed');
    expect(text).toContain(':x: Promotion: `v0.9.0` has not succeeded on *staging*');
    expect(text).toContain('4 required items in 2 sections (Infrastructure, Security)');
    expect(text).toContain('1 ticked automatically by a check: CI green for this ref');
    expect(text).toContain('2 from Tech Lead, Security Lead, Product Owner, each from a different role');
    expect(text).toContain('you cannot approve your own deploy');
    expect(text).not.toContain('<@U0ALICE>');
    expect(await store().active()).toEqual([]);
    expect(bot.slack.calls.slice(before).filter((c) => c.method.startsWith('chat.'))).toEqual([]);
  });
});

describe('checklist and approvals', () => {
  it('holds the deploy until every required item is ticked and two roles approve, then starts it once', async () => {
    await succeed('staging', 'v1.0.0');
    const id = await requestProd('v1.0.0');
    expect((await record(id)).status).toBe('pending');

    // the automatic item ticks itself from its check, and says why
    let gate = await freshGate(id, (t) => t.includes('ticked by Shipmate'));
    expect(allText(gate)).toContain('CI green for this ref — _ticked by Shipmate: `node` exited 0_');
    expect(allText(gate)).toContain('*Infrastructure* — 1/3');
    expect(blockLimitProblems(gate.blocks as unknown[], 'message')).toEqual([]);
    expect(bot.statusMessage(id)).toBeUndefined(); // nothing runs before the gates are met

    // approvers were told by DM (not the requester, who also holds Tech Lead)
    const dmsTo = () => bot.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text ?? '').includes(`sign-off on deploy #${id}`)).map((c) => c.args.channel).sort();
    await eventually(() => dmsTo().length >= 3, 5_000, 'the approvers’ DMs'); // sent after the ack, one by one
    expect(dmsTo()).toEqual(['U0PRIYA', 'U0SAM', 'U0TARA']);

    // two people tick different items at the same moment, from the same view of the message
    const [a, b] = await Promise.all([bot.tick(gate, 'backups', 'U0BOB'), bot.tick(gate, 'capacity', 'U0TARA')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await eventually(async () => (await record(id)).gates?.items.capacity?.checked && (await record(id)).gates?.items.backups?.checked, 5000, 'both ticks');
    let r = await record(id);
    expect(r.gates?.items.backups).toMatchObject({ checked: true, by: 'U0BOB' });
    expect(r.gates?.items.capacity).toMatchObject({ checked: true, by: 'U0TARA' });
    gate = await freshGate(id, (t) => t.includes('<@U0BOB>') && t.includes('<@U0TARA>'));
    expect(allText(gate)).toContain('*Infrastructure* — 3/3');

    // a double click on the same box changes nothing
    await Promise.all([bot.tick(gate, 'secrets', 'U0BOB'), bot.tick(gate, 'secrets', 'U0BOB')]);
    await eventually(async () => (await record(id)).gates?.items.secrets?.checked);
    const ticks = (await readAudit(bot.shipmate.deps.redis, bot.prefix)).filter((e) => e.deployId === id && e.action === 'checklist.ticked');
    expect(ticks.filter((t) => t.detail === 'secrets')).toHaveLength(1);
    expect(ticks.map((t) => t.detail).sort()).toEqual(['backups', 'capacity', 'secrets']);

    // someone who neither deploys nor signs may not tick
    gate = await freshGate(id);
    await bot.tick(gate, 'docs', 'U0MALLORY');
    await eventually(() => bot.slack.ephemerals('U0MALLORY').find((m) => (m.text ?? '').includes('may not tick')));
    expect((await record(id)).gates?.items.docs?.checked).toBe(false);

    // the requester may not approve their own deploy, even holding the role
    gate = await freshGate(id);
    await bot.click(gate, `${ACTIONS.approve}:tech_lead`, 'U0ALICE');
    await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => (m.text ?? '').includes('separation of duties')));
    // someone without the role may not approve as it
    await bot.click(gate, `${ACTIONS.approve}:security_lead`, 'U0BOB');
    await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('do not hold the Security Lead role')));
    expect((await record(id)).gates?.approvals).toEqual([]);
    const refusals = (await readAudit(bot.shipmate.deps.redis, bot.prefix)).filter((e) => e.deployId === id && e.action === 'approval.refused');
    expect(refusals.map((e) => e.user).sort()).toEqual(['U0ALICE', 'U0BOB']);

    // Tara approves as Tech Lead (double click counts once); a second Tech Lead would not count
    await Promise.all([bot.click(gate, `${ACTIONS.approve}:tech_lead`, 'U0TARA'), bot.click(gate, `${ACTIONS.approve}:tech_lead`, 'U0TARA')]);
    await eventually(async () => (await record(id)).gates?.approvals.length === 1);
    await eventually(() => bot.slack.ephemerals('U0TARA').find((m) => (m.text ?? '').includes('already approved as Tech Lead')));
    gate = await freshGate(id, (t) => t.includes(':white_check_mark: Tech Lead — <@U0TARA>'));
    expect(allText(gate)).not.toContain(`${ACTIONS.approve}:tech_lead`); // distinct roles: that button is gone
    expect((await record(id)).status).toBe('pending');

    // the last approval: the deploy starts by itself, exactly once
    const clicks = await Promise.all([bot.click(gate, `${ACTIONS.approve}:security_lead`, 'U0SAM'), bot.click(gate, `${ACTIONS.approve}:security_lead`, 'U0SAM')]);
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    r = await eventually(async () => {
      const x = await record(id);
      return x.status === 'succeeded' ? x : undefined;
    }, 10_000, 'the production deploy to run');
    expect(r.gates?.approvals.map((ap) => `${ap.user}:${ap.role}`)).toEqual(['U0TARA:tech_lead', 'U0SAM:security_lead']);
    expect(r.runs).toBe(1);
    const jobs = await bot.shipmate.deps.queues.queue('production').getJobs(['completed', 'failed', 'active', 'waiting']);
    expect(jobs.filter((j) => j.data.deployId === id)).toHaveLength(1);
    expect(bot.slack.messages(CHANNEL).filter((m) => headerText(m).includes(`Deploy #${id} `))).toHaveLength(1);

    gate = await freshGate(id, (t) => t.includes('All gates met'));
    expect(allText(gate)).toContain('approved by <@U0TARA> (Tech Lead), <@U0SAM> (Security Lead)');
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes(`Deploy #${id}`)));
    expect(allText(log)).toContain('checklist 4/5 ticked by');
    expect(allText(log)).toContain('approved by <@U0TARA> (Tech Lead), <@U0SAM> (Security Lead)');
    expect(allText(log)).toContain('refused: tick by <@U0MALLORY>, approve by <@U0ALICE>, approve by <@U0BOB>');
    const trail = (await readAudit(bot.shipmate.deps.redis, bot.prefix)).filter((e) => e.deployId === id).map((e) => e.action);
    expect(trail).toEqual(expect.arrayContaining(['deploy.requested', 'checklist.auto-ticked', 'checklist.ticked', 'approval.given', 'approval.refused', 'gates.met']));
    expect(trail.filter((t) => t === 'gates.met')).toHaveLength(1);
  });

  it('a failed automatic check stays unticked with its reason, and can be re-run', async () => {
    await succeed('staging', 'bad-1');
    const id = await requestProd('bad-1');
    const gate = await freshGate(id, (t) => t.includes('check failed'));
    expect(allText(gate)).toContain('CI green for this ref — _check failed: `node` exited 1: 2 failing jobs on bad-1_');
    expect(allText(gate)).toContain(ACTIONS.rerunChecks);
    expect((await record(id)).gates?.items.ci?.checked).toBe(false);
    // an automatic item cannot be ticked by hand (it is not a checkbox at all)
    expect(() => bot.tick(gate, 'ci', 'U0BOB')).toThrow(/no checkbox/);
    await bot.click(gate, ACTIONS.rerunChecks, 'U0BOB');
    await eventually(async () => (await readAudit(bot.shipmate.deps.redis, bot.prefix)).filter((e) => e.deployId === id && e.action === 'checklist.auto-failed').length === 2, 10_000, 'the re-run');
    await withdrawVia(bot, await freshGate(id), id, 'U0ALICE', 'CI is red; a fixed build follows');
    await eventually(async () => (await record(id)).status === 'cancelled');
    await freshGate(id, (t) => t.includes('*Withdrawn* by <@U0ALICE>') && t.includes('CI is red; a fixed build follows'));
  });

  it('approvals expire after the configured time, and the message says so', async () => {
    await succeed('staging', 'v1.1.0');
    const id = await requestProd('v1.1.0');
    let gate = await freshGate(id);
    await bot.click(gate, `${ACTIONS.approve}:tech_lead`, 'U0TARA');
    await eventually(async () => (await record(id)).gates?.approvals.length === 1);
    gate = await freshGate(id, (t) => t.includes('expired'));
    expect(allText(gate)).toContain("<@U0TARA>'s approval as Tech Lead expired");
    const r = await record(id);
    expect(r.gates?.approvals).toEqual([]);
    expect(r.gates?.expired.map((e) => e.user)).toEqual(['U0TARA']);
    // one fresh approval is not enough on its own
    await bot.click(gate, `${ACTIONS.approve}:security_lead`, 'U0SAM');
    await eventually(async () => (await record(id)).gates?.approvals.length === 1);
    expect((await record(id)).status).toBe('pending');
    expect((await readAudit(bot.shipmate.deps.redis, bot.prefix)).some((e) => e.deployId === id && e.action === 'approval.expired')).toBe(true);
  }, 20_000);

  it('a rejection asks for the reason in a modal, ends the deploy and tells the requester', async () => {
    await succeed('staging', 'v1.2.0');
    const id = await requestProd('v1.2.0', 'U0BOB');
    const gate = await freshGate(id);
    // only sign-off roles may reject
    await bot.click(gate, ACTIONS.reject, 'U0MALLORY');
    await eventually(() => bot.slack.ephemerals('U0MALLORY').find((m) => (m.text ?? '').includes('can reject')));
    await bot.click(gate, ACTIONS.reject, 'U0SAM');
    const opened = await eventually(() => bot.slack.callsTo('views.open').find((c) => (c.args.view as { private_metadata?: string }).private_metadata === id));
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(VIEWS.rejectReason);
    const values = (text: string) => ({ [REJECT_REASON_BLOCK]: { [REJECT_REASON_INPUT]: { type: 'plain_text_input', value: text } } });
    const tooShort = await bot.submitView({ ...view, state: { values: values('no') } }, 'U0SAM');
    expect(tooShort.json).toEqual({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: expect.stringContaining('Say why') } });
    expect((await record(id)).status).toBe('pending');
    const ok = await bot.submitView({ ...view, state: { values: values('migration has no rollback script') } }, 'U0SAM');
    expect(ok.status).toBe(200);
    const r = await eventually(async () => ((await record(id)).status === 'rejected' ? record(id) : undefined));
    expect(r.gates?.rejected).toMatchObject({ user: 'U0SAM', reason: 'migration has no rollback script' });
    await freshGate(id, (t) => t.includes('*Rejected* by <@U0SAM>') && t.includes('migration has no rollback script'));
    const told = await eventually(() => dmsTo(bot.slack, 'U0BOB').find((m) => (m.text ?? '').includes('rejected your deploy')));
    expect(told.text).toContain('migration has no rollback script');
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => allText(m).includes(`Deploy #${id}`)));
    expect(allText(log)).toContain('Rejected');
    // the log names the requester as the requester, so the line cannot read as if they had rejected it
    expect(allText(log)).toContain('*Requested by*\\n<@U0BOB>');
    expect(allText(log)).not.toContain('Deployed by');
    // later clicks do nothing
    await bot.click(gate, `${ACTIONS.approve}:tech_lead`, 'U0TARA', `${id}:tech_lead`);
    await eventually(() => bot.slack.ephemerals('U0TARA').find((m) => (m.text ?? '').includes('was rejected')));
    expect(bot.statusMessage(id)).toBeUndefined();
  });
});

describe('user groups', () => {
  it('mentions the approvers’ user group in the gate thread, and its members may approve', async () => {
    bot.slack.addUserGroup({ id: 'S0SECURITY', handle: 'security', users: ['U0GROUPIE'] });
    const res = await bot.command('/deploy', 'sandbox v1', 'U0ALICE');
    const id = idFrom(res.json.text);
    const gate = await freshGate(id);
    const mention = await eventually(() => bot.slack.thread(CHANNEL, gate.ts).find((m) => (m.text ?? '').includes('<!subteam^S0SECURITY>')));
    expect(mention.text).toContain(`sign-off on deploy #${id}`);
    await bot.click(gate, `${ACTIONS.approve}:security_team`, 'U0BOB');
    await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('do not hold the Security Team role')));
    await bot.click(gate, `${ACTIONS.approve}:security_team`, 'U0GROUPIE');
    await eventually(async () => (await record(id)).status === 'succeeded', 10_000, 'the sandbox deploy');
  });
});

describe('post-deploy sign-off', () => {
  it('staging waits for the product team sign-off after deploy, and the log records it', async () => {
    const id = await succeed('staging', 'v2.0.0');
    const msg = await eventually(() => {
      const m = bot.statusMessage(id);
      return m && allText(m).includes(ACTIONS.postDeploySignoff) ? m : undefined;
    });
    expect(allText(msg)).toContain('Waiting for the Product team sign-off after deploy');
    await bot.click(msg, ACTIONS.postDeploySignoff, 'U0BOB');
    await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('Only Product team can sign off')));
    await bot.click(msg, ACTIONS.postDeploySignoff, 'U0PRIYA');
    await eventually(() => allText(bot.statusMessage(id)!).includes('Product team signed off: <@U0PRIYA>'));
    expect(allText(bot.statusMessage(id)!)).not.toContain(ACTIONS.postDeploySignoff);
    const log = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => (m.text ?? '').includes(`Deploy #${id} (\`v2.0.0\` → staging): Product team sign-off by <@U0PRIYA>`)));
    expect(log).toBeDefined();
  });
});

describe('App Home', () => {
  it("shows the user's pending sign-offs and checklist with buttons that work, and every environment", async () => {
    await succeed('staging', 'v3.0.0');
    const id = await requestProd('v3.0.0', 'U0BOB');
    await freshGate(id, (t) => t.includes('ticked by Shipmate'));
    await bot.homeOpened('U0PRIYA');
    const home = await eventually(() => {
      const h = bot.slack.homeOf('U0PRIYA');
      return h && JSON.stringify(h).includes(`Deploy #${id}*`) ? h : undefined;
    });
    const text = JSON.stringify(home.blocks);
    expect(text).toContain('Waiting for you');
    expect(text).toContain(`${ACTIONS.approve}:product_owner`);
    expect(text).not.toContain(`${ACTIONS.approve}:security_lead`); // only the roles Priya holds
    expect(text).toContain('*production* (prod)');
    expect(blockLimitProblems(home.blocks, 'home')).toEqual([]);
    const view = [...bot.slack.views.values()].find((v) => v.kind === 'home' && v.user === 'U0PRIYA');
    expect(view).toBeDefined();
    await bot.clickInView({ id: view!.id, blocks: home.blocks }, `${ACTIONS.approve}:product_owner`, 'U0PRIYA', `${id}:product_owner`);
    await eventually(async () => (await record(id)).gates?.approvals.some((a) => a.user === 'U0PRIYA'));
    // other pending deploys are on the Home tab too: tick this deploy's box
    const mineOnly = (home.blocks as Array<{ block_id?: string }>).filter((b) => b.block_id?.startsWith(`gate:${id}:`));
    await bot.tick({ blocks: mineOnly, viewId: view!.id }, 'backups', 'U0PRIYA');
    await eventually(async () => (await record(id)).gates?.items.backups?.by === 'U0PRIYA');
    // the home tab was refreshed after acting from it
    await eventually(() => !JSON.stringify(bot.slack.homeOf('U0PRIYA')?.blocks).includes(`"${id}:product_owner"`));
  });
});
