// Rollbacks as their own change kind, through the environment's one queue: the environment's own rollback steps
// (and the fallback to its deploy steps), jumping ahead of waiting deploys but never running beside the running one,
// the lock a successful rollback leaves, stakeholder notice, log entry and post-mortem reminder; then environment
// locks by hand (/deploys lock|unlock), refusals, and *Tell me when it's free* (one DM each, however often clicked).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { allText, deployIdFrom, dmsTo, eventually, type TestBot, useTestBot, waitForEnd } from '../helpers/harness.js';
import { clickInReply } from '../helpers/interactions.js';

const dir = mkdtempSync(join(tmpdir(), 'shipmate-rollback-'));
const LOG = join(dir, 'changes.log');
// A deploy step that waits until the test releases its version (a file go-<version>), so the test decides how long it runs.
const held = `'echo "start {{deployId}} {{version}}" >> ${LOG}; while [ ! -e ${dir}/go-{{version}} ]; do sleep 0.05; done; echo "end {{deployId}}" >> ${LOG}'`;

const YAML = `
roles:
  deployers: { users: [U0ALICE, U0BOB] }
  leads: { users: [U0LEAD] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: web
    deployers: [deployers]
    channels: { stakeholders: [C0STAKE] }
    notifications: { postMortem: { after: 1s, text: "Post-mortem due for {{deploy}}" } }
    lock: { allowHotfix: true }
    steps:
      - name: Deploy
        run: [sh, -c, ${held}]
    rollback:
      steps:
        - name: Undo
          run: [sh, -c, 'echo "start {{deployId}} undo {{rollbackFrom}} -> {{version}}" >> ${LOG}; sleep 0.3; echo "end {{deployId}}" >> ${LOG}']
  - name: gated
    deployers: [deployers]
    approvals: { required: 1, roles: [leads], notify: none }
    steps:
      - name: Deploy
        run: [node, -e, "0"]
  - name: plain
    steps:
      - name: Deploy
        run: [sh, -c, 'echo "start {{deployId}} {{version}} plain" >> ${LOG}; echo "end {{deployId}}" >> ${LOG}']
`;

const useBot = useTestBot({ configYaml: YAML });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const lines = () => (existsSync(LOG) ? readFileSync(LOG, 'utf8').trim().split('\n') : []);
const release = (version: string) => writeFileSync(join(dir, `go-${version}`), '');
const answerTo = (user: string, text: string) => eventually(() => bot.slack.ephemerals(user).find((m) => (m.text ?? '').includes(text)), 5_000, `"${text}" for ${user}`);

async function deploy(env: string, version: string, user = 'U0ALICE'): Promise<{ id: string; text: string }> {
  const res = await bot.command('/deploy', `${env} ${version}`, user);
  return { id: deployIdFrom(res.json.text ?? ''), text: res.json.text ?? '' };
}

/** Asks /rollback and confirms it as `user`; returns the rollback's id. */
async function rollback(text: string, user = 'U0BOB'): Promise<{ id: string; question: string }> {
  const ask = await bot.command('/rollback', text, user);
  const question = JSON.stringify(ask.json.blocks ?? ask.json.text);
  const before = bot.slack.ephemerals(user).length;
  await clickInReply(bot, ask.json, ACTIONS.rollbackConfirm, user);
  const answer = await eventually(() => bot.slack.ephemerals(user).slice(before).find((m) => (m.text ?? '').includes('Rolling ')), 5_000, 'the rollback answer');
  return { id: deployIdFrom(answer.text ?? ''), question };
}

describe('rollback jobs', () => {
  it('jumps ahead of waiting deploys, never runs beside the running one, runs the rollback steps, locks, notifies, logs and reminds', async () => {
    release('v1');
    release('v2');
    expect((await waitForEnd(bot, (await deploy('web', 'v1')).id)).status).toBe('succeeded');
    expect((await waitForEnd(bot, (await deploy('web', 'v2')).id)).status).toBe('succeeded');
    // v3 runs (held); v4 and v5 wait behind it, each told its place
    const v3 = await deploy('web', 'v3');
    await eventually(async () => (await bot.shipmate.deps.store.get(v3.id))?.status === 'running', 5_000, 'v3 to run');
    const v4 = await deploy('web', 'v4');
    const v5 = await deploy('web', 'v5');
    expect(v4.text).toContain('it waits for 1 web deploy ahead of it');
    expect(v5.text).toContain('it waits for 2 web deploys ahead of it');

    const { id: rb, question } = await rollback('web "checkout 500s since v2"');
    expect(question).toContain("web's rollback steps (Undo) back to");
    expect(question).toContain('Why: checkout 500s since v2');
    const told = await answerTo('U0BOB', `rollback #${rb}`);
    expect(told.text).toContain('it goes ahead of any waiting web deploys and starts once the change running there now ends');
    const m = bot.shipmate.deps.messenger;
    const place = async (id: string) => m.position((await bot.shipmate.deps.store.get(id))!);
    expect([await place(rb), await place(v4.id), await place(v5.id)]).toEqual([2, 3, 4]);

    // the rollback waits for the running deploy, however long it takes
    await new Promise((ok) => setTimeout(ok, 600));
    expect((await bot.shipmate.deps.store.get(rb))?.status).toBe('queued');
    release('v3');
    const r = await waitForEnd(bot, rb);
    expect(r).toMatchObject({ status: 'succeeded', kind: 'rollback', version: 'v1', rollbackFrom: 'v2', reason: 'checkout 500s since v2', requestedBy: 'U0BOB' });
    expect(r.steps.map((s) => s.name)).toEqual(['Undo']);
    // the deploys that waited never started: the rollback locked web before they could
    for (const id of [v4.id, v5.id]) {
      const d = await waitForEnd(bot, id);
      expect(d.status).toBe('cancelled');
      expect(d.error).toContain('Not started: web is locked');
    }
    const ids = [v3.id, rb, v4.id, v5.id];
    const changes = lines().filter((l) => ids.includes(l.split(' ')[1] ?? ''));
    expect(changes).toEqual([`start ${v3.id} v3`, `end ${v3.id}`, `start ${rb} undo v2 -> v1`, `end ${rb}`]);

    // locked with the rollback's reason, by whoever rolled back
    const lock = await bot.shipmate.deps.deploys.locks.get('web');
    expect(lock).toMatchObject({ by: 'U0BOB', reason: 'checkout 500s since v2', deployId: rb });
    expect((await bot.shipmate.deps.store.envState('web'))?.version).toBe('v1');
    // stakeholders told; the log entry says rollback, from what, to what, why, by whom
    await eventually(() => bot.slack.messages('C0STAKE').find((x) => allText(x).toLowerCase().includes('rolled back')), 5_000, 'the rolled-back notice');
    const entry = await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((x) => allText(x).includes(`Rollback #${rb}`)));
    expect(allText(entry)).toContain('rollback from v2 to v1');
    expect(allText(entry)).toContain('why: checkout 500s since v2');
    expect(allText(entry)).toContain('*Rolled back by*\\n<@U0BOB>');
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((x) => allText(x).includes(':lock: *web* is locked')), 5_000, 'the lock notice');
    // the post-mortem reminder comes due (1 s in this config) in the rollback's channel
    await eventually(() => bot.slack.messages().find((x) => allText(x).includes('Post-mortem due for')), 10_000, 'the post-mortem reminder');
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix);
    expect(trail.find((e) => e.action === 'env.locked')).toMatchObject({ user: 'U0BOB', env: 'web', detail: 'checkout 500s since v2', deployId: rb });
  }, 40_000);

  it('refuses deploys to the locked environment with the lock and a button; each clicker gets one DM when it is lifted', async () => {
    const refused = await bot.command('/deploy', 'web v6', 'U0ALICE');
    expect(refused.json.text).toContain('web is locked: by <@U0BOB>');
    expect(refused.json.text).toContain('checkout 500s since v2');
    expect(refused.json.text).toContain('Nothing was queued');
    expect(JSON.stringify(refused.json.blocks)).toContain(ACTIONS.lockWatch);
    expect((await bot.shipmate.deps.store.active()).filter((d) => d.env === 'web')).toEqual([]);
    // /deploys and the App Home show the lock: who, since when, why
    const overview = JSON.stringify((await bot.command('/deploys', 'web', 'U0CAROL')).json.blocks);
    expect(overview).toContain(':lock: Locked by <@U0BOB> since <!date^');
    expect(overview).toContain('checkout 500s since v2');
    await bot.homeOpened('U0CAROL');
    await eventually(() => JSON.stringify(bot.slack.homeOf('U0CAROL')?.blocks ?? []).includes(':lock: Locked by <@U0BOB>'), 5_000, 'the lock on the App Home');

    // Alice double-clicks, Carol clicks once
    await Promise.all([clickInReply(bot, refused.json, ACTIONS.lockWatch, 'U0ALICE'), clickInReply(bot, refused.json, ACTIONS.lockWatch, 'U0ALICE')]);
    await clickInReply(bot, refused.json, ACTIONS.lockWatch, 'U0CAROL');
    await answerTo('U0CAROL', "I'll DM you once when web is unlocked");
    expect(await bot.shipmate.deps.redis.smembers(`${bot.prefix}:env:web:lock:watchers`)).toEqual(expect.arrayContaining(['U0ALICE', 'U0CAROL']));

    // only the environment's deployers (and approvers) may lock or unlock; refusals are private and audited
    expect((await bot.command('/deploys', 'unlock web', 'U0MALLORY')).json.text).toContain('You may not unlock web: that needs the Deployers role.');
    expect((await bot.command('/deploys', 'lock web "mine"', 'U0MALLORY')).json.text).toContain('You may not lock web');
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix);
    expect(trail.find((e) => e.action === 'env.unlock-refused')).toMatchObject({ user: 'U0MALLORY', env: 'web' });
    expect(await bot.shipmate.deps.deploys.locks.get('web')).toBeDefined();

    const unlocked = await bot.command('/deploys', 'unlock web', 'U0ALICE');
    expect(unlocked.json.text).toContain('Unlocked *web*');
    for (const user of ['U0ALICE', 'U0CAROL']) await eventually(() => dmsTo(bot.slack, user).find((x) => (x.text ?? '').includes('web* is free again')), 5_000, `the DM to ${user}`);
    await new Promise((ok) => setTimeout(ok, 500));
    expect(dmsTo(bot.slack, 'U0ALICE').filter((x) => (x.text ?? '').includes('is free again'))).toHaveLength(1);
    expect(dmsTo(bot.slack, 'U0CAROL').filter((x) => (x.text ?? '').includes('is free again'))).toHaveLength(1);
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((x) => allText(x).includes('unlocked *web*')), 5_000, 'the unlock notice');
    expect((await readAudit(bot.shipmate.deps.redis, bot.prefix)).find((e) => e.action === 'env.unlocked')).toMatchObject({ user: 'U0ALICE', env: 'web' });
    expect((await bot.command('/deploys', 'unlock web', 'U0ALICE')).json.text).toContain('web is not locked');
  }, 30_000);

  it('/deploys lock and unlock by hand: a reason is required, a second lock is refused, approvers may lock, hotfixes pass where allowed', async () => {
    expect((await bot.command('/deploys', 'lock web', 'U0ALICE')).json.text).toContain('Say why web is locked');
    expect((await bot.command('/deploys', 'lock', 'U0ALICE')).json.text).toContain('Which environment do you want to lock?');
    expect((await bot.command('/deploys', 'lock wbe "x"', 'U0ALICE')).json.text).toContain('Did you mean `web`?');
    expect((await bot.command('/deploys', 'lock web "release audit"', 'U0ALICE')).json.text).toContain('Locked *web*');
    expect((await bot.command('/deploys', 'lock web "again"', 'U0BOB')).json.text).toContain('web is already locked: by <@U0ALICE>');
    expect(await bot.shipmate.deps.deploys.locks.get('web')).toMatchObject({ by: 'U0ALICE', reason: 'release audit' });
    // a lead (an approver of gated, not a deployer) may lock gated
    expect((await bot.command('/deploys', 'lock gated "data fix running"', 'U0LEAD')).json.text).toContain('Locked *gated*');
    // a hotfix passes web's lock (lock.allowHotfix); gated does not allow it
    const web = bot.config.environments.find((e) => e.name === 'web')!;
    const gated = bot.config.environments.find((e) => e.name === 'gated')!;
    release('hf1');
    const hot = await bot.shipmate.deps.deploys.request({ env: web, ref: 'hf1', user: 'U0ALICE', channel: 'C0RELEASES', kind: 'hotfix' });
    expect((await waitForEnd(bot, (hot as { record: { id: string } }).record.id)).status).toBe('succeeded');
    await expect(bot.shipmate.deps.deploys.request({ env: gated, ref: 'hf2', user: 'U0ALICE', channel: 'C0RELEASES', kind: 'hotfix' })).rejects.toThrow('gated is locked');
    // a rollback passes the lock (it is the way out); its own lock then takes the place of the hand-set one
    const rb = await rollback('web "hotfix hf1 made it worse"');
    expect((await waitForEnd(bot, rb.id)).status).toBe('succeeded');
    expect(await bot.shipmate.deps.deploys.locks.get('web')).toMatchObject({ by: 'U0BOB', reason: 'hotfix hf1 made it worse', deployId: rb.id });
    expect((await bot.command('/deploys', 'unlock web', 'U0BOB')).json.text).toContain('Unlocked *web*');
    expect((await bot.command('/deploys', 'unlock gated', 'U0LEAD')).json.text).toContain('Unlocked *gated*');
  }, 30_000);

  it('rolls back to a named good version; one that never succeeded there is refused; without rollback steps it runs the deploy steps with the old version', async () => {
    release('v7');
    expect((await waitForEnd(bot, (await deploy('web', 'v7')).id)).status).toBe('succeeded');
    const never = await bot.command('/rollback', 'web v0.9 "try it"', 'U0BOB');
    expect(never.json.text).toContain('`v0.9` never succeeded on web');
    expect(never.json.blocks).toBeUndefined();
    const named = await rollback('web v2 login broken');
    expect(named.question).toContain('Why: login broken');
    const r = await waitForEnd(bot, named.id);
    expect(r).toMatchObject({ status: 'succeeded', version: 'v2', rollbackFrom: 'v7', reason: 'login broken' });
    expect(lines()).toContain(`start ${named.id} undo v7 -> v2`);
    expect((await bot.command('/deploys', 'unlock web', 'U0BOB')).json.text).toContain('Unlocked *web*');

    // plain has no rollback steps: the rollback runs its deploy steps with the old version
    for (const v of ['p1', 'p2']) expect((await waitForEnd(bot, (await deploy('plain', v)).id)).status).toBe('succeeded');
    const fallback = await rollback('plain');
    expect(fallback.question).toContain("plain's steps with");
    const f = await waitForEnd(bot, fallback.id);
    expect(f).toMatchObject({ status: 'succeeded', version: 'p1', rollbackFrom: 'p2' });
    expect(f.steps.map((s) => s.name)).toEqual(['Deploy']);
    expect(lines()).toContain(`start ${fallback.id} p1 plain`);
    expect(await bot.shipmate.deps.deploys.locks.get('plain')).toMatchObject({ by: 'U0BOB', reason: 'rolled back from p2', deployId: fallback.id });
  }, 40_000);
});
