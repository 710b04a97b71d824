// /flag end to end through the real Bolt receiver: the grammar and its refusals (private, nothing changed),
// permissions and their audit, the deployment log, the card's step buttons (a double click counts once), the
// kill switch's modal and notice, sign-off of release flags in production, history, archive and cleanup.
import { Queue } from 'bullmq';
import { beforeEach, describe, expect, it } from 'vitest';
import { FLAG_CLEANUP_QUEUE, FLAG_CLEANUP_SCHEDULER } from '../../jobs/flag-cleanup.js';
import { FLAG_ACTIONS, FLAG_CREATE_BLOCKS, FLAG_KILL_REASON, FLAG_VIEWS, stepActionId, stepValue } from '../../blocks/flags.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { eventually, type TestBot, useTestBot } from '../helpers/harness.js';
import { clickInReply } from '../helpers/interactions.js';
import { blockActionsBody, sendToBot } from '../../playground/slack-standin/requests.js';
import { SIGNING_SECRET, CHANNEL } from '../helpers/harness.js';
import { FLAGS_YAML, FLAG_ENV } from './config.js';

const useBot = useTestBot({ configYaml: FLAGS_YAML, env: FLAG_ENV });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

const say = async (text: string, user = 'U0ALICE') => (await bot.command('/flag', text, user)).json as { text: string; blocks?: unknown[] };
const flag = (key: string) => bot.shipmate.deps.flags.flags.get(key);

describe('/flag grammar', () => {
  it('creates a flag off everywhere, owned by its creator, and shows its card', async () => {
    const made = await say('create new_query_ui experiment "New query UI"');
    expect(made.text).toContain('Created flag `new_query_ui` (experiment, boolean)');
    expect(await flag('new_query_ui')).toMatchObject({ owner: 'U0ALICE', type: 'experiment', envs: {} });
    const card = await say('new_query_ui');
    expect(JSON.stringify(card.blocks)).toContain('Flag new_query_ui');
    expect(JSON.stringify(card.blocks)).toContain('*production*: :white_circle: off');
  });

  it('answers bad input clearly and privately, and changes nothing', async () => {
    await say('create max_rows limit "Rows per page"');
    const before = await flag('max_rows');
    const cases: Array<[string, string]> = [
      ['nosuch on dev', 'There is no flag `nosuch`'],
      ['max_rows 150% dev', '`150%` is not a percentage'],
      ['max_rows abc% dev', '`abc%` is not a percentage'],
      ['max_rows set lots dev', '`max_rows` is a number flag: `lots` is not a number'],
      ['max_rows 25% dev', 'has no percentage rollout'],
      ['max_rows on prdo', 'There is no environment `prdo`. Did you mean `production`?'],
      ['max_rows on', 'Name one environment'],
      ['max_rows frobnicate dev', 'is not something a flag can be set to'],
      ['create bad key', 'needs a key, a type and a description'],
      ['create x nosuchtype "d"', 'There is no flag type `nosuchtype`'],
      ['create max_rows limit "again"', 'A flag `max_rows` exists already'],
      ['create 9lives release "d"', 'is not a flag key'],
      ['list nowhere', 'There is no environment `nowhere`'],
    ];
    for (const [text, expected] of cases) {
      const res = await bot.command('/flag', text, 'U0ALICE');
      expect(res.status).toBe(200);
      expect(res.json.response_type, text).toBe('ephemeral');
      expect(res.json.text, text).toContain(expected);
    }
    expect(await flag('max_rows')).toEqual(before);
    expect(bot.slack.messages('C0DEPLOYLOG').filter((m) => (m.text ?? '').includes('max_rows'))).toEqual([]);
  });

  it('suggests the nearest flag; the same change again (or a redelivered command) changes and announces nothing', async () => {
    await say('create dark_mode experiment "Dark mode"');
    expect((await say('dark_mod on dev')).text).toContain('There is no flag `dark_mod`. Did you mean `dark_mode`?');
    expect((await say('dark_mode on dev')).text).toContain('off → *on*');
    expect((await say('dark_mode on dev')).text).toContain('`dark_mode` is already on in dev; nothing changed.');
    expect((await bot.shipmate.deps.flags.flags.history('dark_mode')).filter((h) => h.action === 'change')).toHaveLength(1);
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => (m.text ?? '').includes('Flag dark_mode in dev')), 5_000, 'the announcement');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(bot.slack.messages('C0DEPLOYLOG').filter((m) => (m.text ?? '').includes('Flag dark_mode in dev'))).toHaveLength(1);
  });

  it('sets typed values (number, JSON) checked against the flag type', async () => {
    await say('create limits config "Limits"');
    expect((await say('limits set {"rows": 500, "depth": 3} staging')).text).toContain('off → *on = {"rows":500,"depth":3}*');
    expect((await say('limits set [1,2] staging')).text).toContain('needs a JSON object');
    await say('create page_size limit "Page size"');
    expect((await say('page_size set 500 dev')).text).toContain('→ *on = 500*');
    expect((await flag('page_size'))?.envs.dev?.value).toBe(500);
  });
});

describe('permissions, audit and the deployment log', () => {
  it('lets anyone change dev; production only the owner or an approver; refusals are audited', async () => {
    await say('create search_v2 experiment "Search v2"');
    expect((await say('search_v2 on dev', 'U0BOB')).text).toContain('off → *on*');
    const refused = await say('search_v2 25% prod', 'U0BOB');
    expect(refused.text).toContain('You may not change `search_v2` in production');
    expect((await flag('search_v2'))?.envs.production).toBeUndefined();
    const trail = await readAudit(bot.shipmate.deps.redis, bot.prefix, 50);
    expect(trail.find((e) => e.action === 'flag.refused' && e.user === 'U0BOB')).toMatchObject({ env: 'production' });
    expect((await say('search_v2 25% prod', 'U0TARA')).text).toContain('off → *25%*');
    expect((await say('search_v2 50% prod', 'U0ALICE')).text).toContain('25% → *50%*');
    const history = await say('history search_v2');
    expect(history.text).toMatch(/<@U0ALICE> · change in \*production\* 25% → 50%/);
    expect(history.text).toMatch(/<@U0BOB> · refused in \*production\*/);
    // The same deployment log as deploys, and the environment's channels (through the delivery path).
    const log = await bot.shipmate.deps.store.recentLog(20, 'production');
    expect(log.find((e) => e.kind === 'flag' && e.ref === 'search_v2' && e.notes[0] === '25% → 50%')).toMatchObject({ deployedBy: 'U0ALICE' });
    await eventually(() => bot.slack.messages('C0STAKE').find((m) => (m.text ?? '').includes('Flag search_v2 in production: 25% → 50%')), 5_000, 'the change in the stakeholder channel');
  });

  it('needs a sign-off from an approver (not the requester) for a release flag in production', async () => {
    await say('create new_checkout release "New checkout"', 'U0TARA');
    const asked = await say('new_checkout on prod', 'U0TARA');
    expect(asked.text).toContain('needs 1 sign-off(s)');
    expect((await flag('new_checkout'))?.envs.production).toBeUndefined();
    const request = await eventually(() => bot.slack.messages('C0STAKE').find((m) => (m.text ?? '').includes('Sign-off for flag new_checkout')), 5_000, 'the sign-off request');
    const approve = `${FLAG_ACTIONS.approve}:approvers`;
    await bot.click(request, approve, 'U0TARA');
    await bot.click(request, approve, 'U0BOB');
    await eventually(() => bot.slack.ephemerals('U0BOB').find((m) => (m.text ?? '').includes('You do not hold the Approvers role')), 5_000, 'the refusal');
    expect((await flag('new_checkout'))?.envs.production).toBeUndefined();
    await bot.click(request, approve, 'U0SAM');
    await eventually(async () => (await flag('new_checkout'))?.envs.production?.enabled, 5_000, 'the signed-off change');
    const history = await bot.shipmate.deps.flags.flags.history('new_checkout');
    expect(history[0]).toMatchObject({ action: 'signed-off', user: 'U0TARA', env: 'production', after: 'on' });
    expect(history[0]?.reason).toContain('signed off by <@U0SAM>');
  });
});

describe('the card and the kill switch', () => {
  it('steps the percentage from the card; a double click applies once', async () => {
    await say('create ranking experiment "Ranking"');
    await say('ranking 10% staging');
    const card = await say('ranking');
    const value = stepValue({ key: 'ranking', env: 'staging', to: 25, rev: (await flag('ranking'))?.rev ?? 0 });
    expect(JSON.stringify(card.blocks)).toContain(value);
    const clicks = await Promise.all([clickInReply(bot, card, stepActionId('staging', 'up'), 'U0ALICE'), clickInReply(bot, card, stepActionId('staging', 'up'), 'U0ALICE')]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    // One click applies (10% → 25%); the other is told, whichever of the two refusals it meets.
    await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => /changed since this card was shown|changed at the same moment/.test(m.text ?? '')), 5_000, 'the second click refused');
    await eventually(() => bot.slack.ephemerals('U0ALICE').find((m) => JSON.stringify(m.blocks ?? []).includes('*staging*: :large_yellow_circle: 25%')), 5_000, 'the card redrawn');
    const history = await bot.shipmate.deps.flags.flags.history('ranking');
    expect(history.filter((h) => h.action === 'change').map((h) => h.after)).toEqual(['25%', '10%']);
    expect((await flag('ranking'))?.envs.staging?.percentage).toBe(25);
  });

  it('applies a step clicked on the card (as Slack sends it) and replaces the card', async () => {
    await say('create banner experiment "Banner"');
    const rev = (await flag('banner'))?.rev ?? 0;
    const ts = `${Math.floor(Date.now() / 1000)}.000002`;
    const body = blockActionsBody({
      user: { id: 'U0ALICE' }, channel: { id: CHANNEL }, container: { type: 'message', message_ts: ts, channel_id: CHANNEL, is_ephemeral: true },
      actions: [{ action_id: stepActionId('production', 'up'), value: stepValue({ key: 'banner', env: 'production', to: 1, rev }), type: 'button' }],
      response_url: bot.slack.responseUrlFor({ user: 'U0ALICE', channel: CHANNEL, ts }),
    });
    await sendToBot(bot.url, body, SIGNING_SECRET);
    await eventually(async () => (await flag('banner'))?.envs.production?.percentage === 1, 5_000, 'banner at 1%');
  });

  it('kill: asks why in a modal, switches off at once and tells the stakeholders', async () => {
    await say('create search kill-switch "Search"');
    await say('search on prod');
    const before = bot.slack.callsTo('views.open').length;
    const asked = await say('kill search prod');
    expect(asked.text).toContain('a form opens');
    const opened = await eventually(() => bot.slack.callsTo('views.open').slice(before).find((c) => (c.args.view as { callback_id?: string }).callback_id === FLAG_VIEWS.kill), 5_000, 'the kill modal');
    expect((await flag('search'))?.envs.production?.enabled).toBe(true);
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    await bot.submitView({ ...view, state: { values: { [FLAG_KILL_REASON.block]: { [FLAG_KILL_REASON.input]: { type: 'plain_text_input', value: 'search returns 500s' } } } } }, 'U0ALICE');
    // Off by the time the modal closes: the next evaluation sees it.
    const killed = await flag('search');
    expect(killed?.envs.production).toMatchObject({ enabled: false, killed: { by: 'U0ALICE', reason: 'search returns 500s' } });
    await eventually(() => bot.slack.messages('C0STAKE').find((m) => (m.text ?? '').includes('Kill switch: search switched off in production — search returns 500s')), 5_000, 'the kill notice');
    expect((await bot.shipmate.deps.flags.flags.history('search'))[0]).toMatchObject({ action: 'kill', before: 'on', after: 'off (killed)', reason: 'search returns 500s' });
  });

  it('kill is refused for someone who may not change the environment, without a modal', async () => {
    await say('create payments kill-switch "Payments"');
    const before = bot.slack.callsTo('views.open').length;
    expect((await say('kill payments prod', 'U0MALLORY')).text).toContain('You may not change `payments` in production');
    await new Promise((ok) => setTimeout(ok, 200));
    expect(bot.slack.callsTo('views.open').length).toBe(before);
  });
});

describe('the create modal', () => {
  it('opens on a bare `/flag create`, refuses a taken key inside the modal, creates the flag on a good one', async () => {
    const before = bot.slack.callsTo('views.open').length;
    expect((await say('create')).text).toContain('Opening the form');
    const opened = await eventually(() => bot.slack.callsTo('views.open').slice(before).find((c) => (c.args.view as { callback_id?: string }).callback_id === FLAG_VIEWS.create), 5_000, 'the create modal');
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    const values = (key: string) => ({
      [FLAG_CREATE_BLOCKS.key]: { value: { type: 'plain_text_input', value: key } },
      [FLAG_CREATE_BLOCKS.type]: { value: { type: 'static_select', selected_option: { value: 'experiment' } } },
      [FLAG_CREATE_BLOCKS.description]: { value: { type: 'plain_text_input', value: 'Made in the modal' } },
    });
    await say('create taken_key experiment "Taken"');
    const refused = await bot.submitView({ ...view, state: { values: values('taken_key') } }, 'U0BOB');
    expect(refused.json).toMatchObject({ response_action: 'errors', errors: { [FLAG_CREATE_BLOCKS.key]: expect.stringContaining('exists already') } });
    const made = await bot.submitView({ ...view, state: { values: values('modal_flag') } }, 'U0BOB');
    expect(made.status).toBe(200);
    expect(await flag('modal_flag')).toMatchObject({ owner: 'U0BOB', type: 'experiment', description: 'Made in the modal' });
  });
});

describe('fault: Slack down', () => {
  it('applies a change at once while Slack fails; its announcement arrives once Slack answers again', async () => {
    await say('create slack_down experiment "Slack down"');
    bot.slack.failNext('chat.postMessage', { status: 500 }, 4);
    expect((await say('slack_down on staging')).text).toContain('off → *on*');
    expect((await flag('slack_down'))?.envs.staging?.enabled).toBe(true);
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => (m.text ?? '').includes('Flag slack_down in staging: off → on')), 15_000, 'the announcement after Slack came back');
    expect(bot.slack.messages('C0DEPLOYLOG').filter((m) => (m.text ?? '').includes('Flag slack_down in staging'))).toHaveLength(1);
  });
});

describe('archive, list and cleanup', () => {
  it('archives a flag (then it is not found) and lists stale flags fully on everywhere', async () => {
    await say('create old_nav release "Old nav"');
    for (const env of ['dev', 'staging']) await say(`old_nav on ${env}`);
    await bot.shipmate.deps.flags.change({ key: 'old_nav', env: 'production', user: 'U0ALICE', change: { kind: 'on' }, channel: CHANNEL, signedOffBy: 'U0TARA' });
    expect((await say('list')).text).toContain('`old_nav` (release) — dev: on · staging: on · production: on');
    await new Promise((ok) => setTimeout(ok, 1_100));
    const stale = await bot.shipmate.deps.flags.staleFlags();
    expect(stale.map((s) => s.flag.key)).toContain('old_nav');
    expect(stale.map((s) => s.flag.key)).not.toContain('ranking');
    // The weekly run is a BullMQ Job Scheduler; a run of its job lists the candidates in the deploy log.
    const queue = new Queue(FLAG_CLEANUP_QUEUE, { connection: bot.shipmate.deps.redis, prefix: bot.prefix });
    expect(await queue.getJobScheduler(FLAG_CLEANUP_SCHEDULER)).toMatchObject({ pattern: '0 9 * * 1', tz: 'UTC' });
    await queue.add(FLAG_CLEANUP_SCHEDULER, {}, { jobId: 'run-now' });
    await eventually(() => bot.slack.messages('C0DEPLOYLOG').find((m) => JSON.stringify(m.blocks ?? []).includes('`old_nav` (release')), 5_000, 'the removal candidates');
    await queue.close();
    expect((await say('archive old_nav', 'U0BOB')).text).toContain('You may not archive');
    expect((await say('archive old_nav')).text).toContain('Archived `old_nav`');
    expect((await say('old_nav')).text).toContain('There is no flag `old_nav` (it was archived)');
  });
});
