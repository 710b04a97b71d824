// Tests for the Slack Web API stand-in: a real WebClient and a real Bolt App talk to it; signing is checked by Bolt's verifier.
import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import { WebClient, type UsersListResponse, type WebAPIPlatformError } from '@slack/web-api';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockLimitProblems } from '../../playground/slack-standin/block-limits.js';
import {
  blockActionsBody, sendToBot, signSlackRequest, slashCommandBody, triggerIdFor, viewSubmissionBody,
} from '../../playground/slack-standin/requests.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';

const TOKEN = 'xoxb-test';
const noop = () => {};
/** Keeps WebClient's warnings about the failures these tests provoke out of the output. */
const logger = { debug: noop, info: noop, warn: noop, error: noop, setLevel: noop, getLevel: () => LogLevel.ERROR, setName: noop };
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (action_id: string, text = 'Go', value = 'v') => ({ type: 'button', action_id, text: { type: 'plain_text', text }, value });
const modal = (blocks: unknown[], title = 'Release') => ({ type: 'modal', title: { type: 'plain_text', text: title }, blocks });

/** The Slack error code a rejected WebClient call carries (throws if it was not a platform error). */
async function platformError(p: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  const err = await p.then(() => { throw new Error('expected the call to fail'); }, (e: unknown) => e);
  expect((err as WebAPIPlatformError).code).toBe('slack_webapi_platform_error');
  return (err as WebAPIPlatformError).data;
}

let standin: SlackStandin;
let client: WebClient;

beforeEach(async () => {
  standin = await startSlackStandin({
    token: TOKEN,
    users: [{ id: 'UALICE', name: 'alice', real_name: 'Alice A' }, { id: 'UBOB', name: 'bob' }],
    channels: [{ id: 'CRELEASE', name: 'releases' }],
    usergroups: [{ id: 'SLEADS', handle: 'leads', users: ['UALICE', 'UBOB'] }],
  });
  client = new WebClient(TOKEN, { slackApiUrl: standin.url, logger, retryConfig: { retries: 0 } });
});
afterEach(async () => {
  await standin.close();
});

describe('Web API basics', () => {
  it('serves auth.test with the bot identity and rejects other tokens', async () => {
    expect(standin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const me = await client.auth.test();
    expect(me).toMatchObject({ ok: true, user_id: 'UBOT00001', team_id: 'T0SHIPMATE', bot_id: 'B0SHIPMATE' });
    const other = new WebClient('xoxb-wrong', { slackApiUrl: standin.url, logger, retryConfig: { retries: 0 } });
    expect((await platformError(other.auth.test())).error).toBe('invalid_auth');
    expect(standin.calls.map((c) => c.method)).toEqual(['auth.test', 'auth.test']);
    expect(standin.calls[0]!.args.token).toBeUndefined();
  });

  it('answers unknown methods with unknown_method', async () => {
    expect((await platformError(client.apiCall('nope.nothing'))).error).toBe('unknown_method');
  });

  it('accepts application/json bodies too', async () => {
    const res = await fetch(`${standin.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'CRELEASE', text: 'json!', blocks: [section('json!')] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'CRELEASE' });
    expect(standin.messages('CRELEASE')[0]).toMatchObject({ text: 'json!', blocks: [section('json!')] });
  });
});

describe('messages', () => {
  it('posts, threads, updates, reads back and deletes', async () => {
    const parent = await client.chat.postMessage({ channel: 'CRELEASE', text: 'Release v1.2.0', blocks: [section('*v1.2.0*')] });
    expect(parent).toMatchObject({ ok: true, channel: 'CRELEASE', message: { text: 'Release v1.2.0', user: 'UBOT00001', bot_id: 'B0SHIPMATE' } });
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);

    const reply = await client.chat.postMessage({ channel: 'CRELEASE', text: 'step 1 done', thread_ts: parent.ts! });
    const reply2 = await client.chat.postMessage({ channel: 'CRELEASE', text: 'step 2 done', thread_ts: reply.ts! }); // a reply's ts threads into the parent
    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    expect(Number(reply2.ts)).toBeGreaterThan(Number(reply.ts));
    expect(standin.messages('CRELEASE')[0]!.replies).toEqual([reply.ts, reply2.ts]);
    expect(standin.thread('CRELEASE', parent.ts!).map((m) => m.text)).toEqual(['Release v1.2.0', 'step 1 done', 'step 2 done']);

    const updated = await client.chat.update({ channel: 'CRELEASE', ts: parent.ts!, text: 'Release v1.2.0 — shipped' });
    expect(updated).toMatchObject({ ok: true, ts: parent.ts, text: 'Release v1.2.0 — shipped' });
    const stored = standin.messages('CRELEASE')[0]!;
    expect(stored.edited?.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(stored.blocks).toEqual([section('*v1.2.0*')]); // blocks not passed → kept, like Slack

    expect((await platformError(client.chat.update({ channel: 'CRELEASE', ts: '1.000001', text: 'x' }))).error).toBe('message_not_found');

    const replies = await client.conversations.replies({ channel: 'CRELEASE', ts: parent.ts! });
    expect(replies.messages?.map((m) => m.text)).toEqual(['Release v1.2.0 — shipped', 'step 1 done', 'step 2 done']);
    expect(replies.messages?.[0]).toMatchObject({ reply_count: 2, thread_ts: parent.ts, latest_reply: reply2.ts });

    const later = await client.chat.postMessage({ channel: 'CRELEASE', text: 'later' });
    const history = await client.conversations.history({ channel: 'CRELEASE' });
    expect(history.messages?.map((m) => m.ts)).toEqual([later.ts, parent.ts]); // newest first, no replies

    const link = await client.chat.getPermalink({ channel: 'CRELEASE', message_ts: parent.ts! });
    expect(link.permalink).toBe(`https://shipmate.slack.com/archives/CRELEASE/p${parent.ts!.replace('.', '')}`);

    await client.chat.delete({ channel: 'CRELEASE', ts: later.ts! });
    expect(standin.messages('CRELEASE').map((m) => m.text)).not.toContain('later');
    expect((await platformError(client.chat.postMessage({ channel: 'CRELEASE', text: 'x', thread_ts: '123.000000' }))).error).toBe('thread_not_found');
  });

  it('keeps ephemerals apart from channel messages', async () => {
    const res = await client.chat.postEphemeral({ channel: 'CRELEASE', user: 'UALICE', text: 'only you' });
    expect(res.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(standin.ephemerals('UALICE')).toMatchObject([{ channel: 'CRELEASE', text: 'only you', ephemeral: { user: 'UALICE' } }]);
    expect(standin.ephemerals('UBOB')).toEqual([]);
    expect(standin.messages()).toEqual([]);
    expect((await platformError(client.chat.update({ channel: 'CRELEASE', ts: res.message_ts!, text: 'x' }))).error).toBe('message_not_found');
  });

  it('rejects what Slack rejects: no_text, msg_too_long, channel_not_found', async () => {
    expect((await platformError(client.chat.postMessage({ channel: 'CRELEASE' } as never))).error).toBe('no_text');
    expect((await platformError(client.chat.postMessage({ channel: 'CRELEASE', text: 'x'.repeat(40001) }))).error).toBe('msg_too_long');
    expect((await platformError(client.chat.postMessage({ channel: 'not-a-channel', text: 'x' }))).error).toBe('channel_not_found');
    await client.chat.postMessage({ channel: 'CRELEASE', text: 'x'.repeat(40000) });
    expect(standin.messages()).toHaveLength(1);
  });

  it('opens one stable DM per user set and adds reactions', async () => {
    const a = await client.conversations.open({ users: 'UALICE' });
    const b = await client.conversations.open({ users: 'UALICE' });
    const group = await client.conversations.open({ users: 'UBOB,UALICE' });
    expect(a.channel?.id).toMatch(/^D[A-Z0-9]+$/);
    expect(b.channel?.id).toBe(a.channel?.id);
    expect(group.channel?.id).not.toBe(a.channel?.id);
    const dm = await client.chat.postMessage({ channel: a.channel!.id!, text: 'hi' });
    await client.reactions.add({ channel: a.channel!.id!, timestamp: dm.ts!, name: 'rocket' });
    expect((await platformError(client.reactions.add({ channel: a.channel!.id!, timestamp: dm.ts!, name: 'rocket' }))).error).toBe('already_reacted');
    expect(standin.messages(a.channel!.id!)[0]!.reactions).toEqual([{ name: 'rocket', users: ['UBOT00001'], count: 1 }]);
    const info = await client.conversations.info({ channel: a.channel!.id! });
    expect(info.channel).toMatchObject({ id: a.channel!.id, is_im: true, user: 'UALICE' });
  });

  it('lists users, channels and user groups', async () => {
    expect((await client.users.info({ user: 'UALICE' })).user).toMatchObject({ id: 'UALICE', name: 'alice', real_name: 'Alice A' });
    expect((await platformError(client.users.info({ user: 'UNOBODY' }))).error).toBe('user_not_found');
    const ids: string[] = [];
    for await (const page of client.paginate('users.list', { limit: 1 })) ids.push(...((page as UsersListResponse).members ?? []).map((m) => m.id!));
    expect(ids).toEqual(['UBOT00001', 'UALICE', 'UBOB']);
    expect((await client.conversations.list()).channels?.map((c) => c.name)).toEqual(['releases']);
    expect((await client.usergroups.users.list({ usergroup: 'SLEADS' })).users).toEqual(['UALICE', 'UBOB']);
    expect((await platformError(client.usergroups.users.list({ usergroup: 'SNONE' }))).error).toBe('no_such_subteam');
    expect((await client.usergroups.list({ include_users: true })).usergroups).toMatchObject([{ id: 'SLEADS', handle: 'leads', users: ['UALICE', 'UBOB'], user_count: 2 }]);
    standin.addUserGroup({ id: 'SQA', handle: 'qa', users: [] });
    expect((await client.usergroups.users.list({ usergroup: 'SQA' })).users).toEqual([]);
  });
});

describe('views', () => {
  it('opens, updates and pushes modals, and publishes App Home', async () => {
    const noTrigger = await platformError(client.views.open({ view: modal([section('x')]) } as never));
    expect(noTrigger.error).toBe('invalid_arguments');

    const opened = await client.views.open({ trigger_id: triggerIdFor('UALICE'), view: { ...modal([section('Pick')]), callback_id: 'approve' } as never });
    const id = opened.view!.id!;
    expect(id).toMatch(/^V[A-Z0-9]+$/);
    expect(opened.view).toMatchObject({ type: 'modal', callback_id: 'approve', root_view_id: id });
    expect(standin.views.get(id)).toMatchObject({ kind: 'modal', user: 'UALICE' });

    await client.views.update({ view_id: id, view: modal([section('Updated')]) as never });
    expect(standin.views.get(id)!.view.blocks).toEqual([section('Updated')]);
    expect((await platformError(client.views.update({ view_id: 'VNOPE', view: modal([]) as never }))).error).toBe('not_found');
    expect((await platformError(client.views.update({ view_id: id, hash: 'stale', view: modal([]) as never }))).error).toBe('hash_conflict');
    expect((await platformError(client.views.open({ trigger_id: triggerIdFor('UALICE'), view: modal([], 'x'.repeat(25)) as never }))).error).toBe('invalid_arguments');

    const pushed = await client.views.push({ trigger_id: triggerIdFor('UALICE'), view: modal([section('Step 2')]) as never });
    expect(pushed.view!.id).not.toBe(id);

    const home = { type: 'home', blocks: [section('Next release: Friday')] };
    const published = await client.views.publish({ user_id: 'UBOB', view: home as never });
    await client.views.publish({ user_id: 'UBOB', view: { ...home, blocks: [section('Next release: Monday')] } as never });
    expect(standin.homeOf('UBOB').blocks).toEqual([section('Next release: Monday')]);
    expect(standin.views.get(published.view!.id!)).toMatchObject({ kind: 'home', user: 'UBOB' }); // one home view per user
    expect(standin.homeOf('UALICE')).toBeUndefined();
  });
});

describe('block limits', () => {
  it('rejects a 51-block message as invalid_blocks through WebClient, accepts 50', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`b${i}`));
    const data = await platformError(client.chat.postMessage({ channel: 'CRELEASE', text: 'many', blocks }));
    expect(data.error).toBe('invalid_blocks');
    expect((data as { errors?: string[] }).errors).toEqual(['no more than 50 items allowed [json-pointer:/blocks]']);
    expect(standin.messages()).toEqual([]);
    await client.chat.postMessage({ channel: 'CRELEASE', text: 'many', blocks: blocks.slice(0, 50) });
    expect(standin.messages()).toHaveLength(1);
  });

  it('allows 100 blocks in a modal but not 101', async () => {
    const blocks = Array.from({ length: 101 }, (_, i) => section(`b${i}`));
    expect((await platformError(client.views.open({ trigger_id: triggerIdFor('UALICE'), view: modal(blocks) as never }))).error).toBe('invalid_blocks');
    await client.views.open({ trigger_id: triggerIdFor('UALICE'), view: modal(blocks.slice(0, 100)) as never });
  });

  const options = (n: number) => Array.from({ length: n }, (_, i) => ({ text: { type: 'plain_text', text: `o${i}` }, value: `v${i}` }));
  const actions = (elements: unknown[]) => ({ type: 'actions', elements });
  // [what, block at the limit, block just over it, pointer in the problem]
  const cases: Array<[string, (over: boolean) => unknown, string]> = [
    ['section text 3000', (o) => section('x'.repeat(o ? 3001 : 3000)), '/blocks/0/text/text'],
    ['section field 2000', (o) => ({ type: 'section', fields: [{ type: 'mrkdwn', text: 'x'.repeat(o ? 2001 : 2000) }] }), '/blocks/0/fields/0/text'],
    ['10 fields', (o) => ({ type: 'section', fields: Array.from({ length: o ? 11 : 10 }, () => ({ type: 'mrkdwn', text: 'f' })) }), '/blocks/0/fields'],
    ['header 150', (o) => ({ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(o ? 151 : 150) } }), '/blocks/0/text/text'],
    ['button text 75', (o) => actions([button('a', 'b'.repeat(o ? 76 : 75))]), '/blocks/0/elements/0/text/text'],
    ['button value 2000', (o) => actions([button('a', 'Go', 'v'.repeat(o ? 2001 : 2000))]), '/blocks/0/elements/0/value'],
    ['action_id 255', (o) => actions([button('a'.repeat(o ? 256 : 255))]), '/blocks/0/elements/0/action_id'],
    ['block_id 255', (o) => ({ ...section('x'), block_id: 'b'.repeat(o ? 256 : 255) }), '/blocks/0/block_id'],
    ['25 action elements', (o) => actions(Array.from({ length: o ? 26 : 25 }, (_, i) => button(`a${i}`))), '/blocks/0/elements'],
    ['10 checkboxes', (o) => actions([{ type: 'checkboxes', action_id: 'c', options: options(o ? 11 : 10) }]), '/blocks/0/elements/0/options'],
    ['100 static_select options', (o) => actions([{ type: 'static_select', action_id: 's', options: options(o ? 101 : 100) }]), '/blocks/0/elements/0/options'],
    ['duplicate action_id', (o) => actions([button('same'), button(o ? 'same' : 'other')]), '/blocks/0/elements/1/action_id'],
    ['10 context elements', (o) => ({ type: 'context', elements: Array.from({ length: o ? 11 : 10 }, () => ({ type: 'mrkdwn', text: 'c' })) }), '/blocks/0/elements'],
    ['accessory button', (o) => ({ ...section('x'), accessory: button('a', 'b'.repeat(o ? 76 : 75)) }), '/blocks/0/accessory/text/text'],
  ];
  it.each(cases)('%s', (_name, make, pointer) => {
    expect(blockLimitProblems([make(false)], 'message')).toEqual([]);
    const problems = blockLimitProblems([make(true)], 'message');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`[json-pointer:${pointer}]`);
  });

  it('counts blocks per surface and flags unknown block types', () => {
    const many = Array.from({ length: 100 }, () => ({ type: 'divider' }));
    expect(blockLimitProblems(many, 'home')).toEqual([]);
    expect(blockLimitProblems(many, 'message')).toEqual(['no more than 50 items allowed [json-pointer:/blocks]']);
    expect(blockLimitProblems([{ type: 'sectoin' }], 'message')[0]).toContain('unsupported type');
  });
});

describe('failure injection', () => {
  it('a 429 with Retry-After is retried by WebClient and then succeeds', async () => {
    const retrying = new WebClient(TOKEN, {
      slackApiUrl: standin.url, logger, rejectRateLimitedCalls: false, retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 },
    });
    standin.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const res = await retrying.chat.postMessage({ channel: 'CRELEASE', text: 'after the limit' });
    expect(res.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(standin.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(standin.messages()).toHaveLength(1);
  });

  it('5xx is retried; an injected {ok:false} error is not', async () => {
    const retrying = new WebClient(TOKEN, { slackApiUrl: standin.url, logger, retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 } });
    standin.failNext('chat.postMessage', { status: 503 }, 2);
    await retrying.chat.postMessage({ channel: 'CRELEASE', text: 'third time lucky' });
    expect(standin.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 200]);

    standin.failNext('chat.update', { error: 'cant_update_message' });
    expect((await platformError(retrying.chat.update({ channel: 'CRELEASE', ts: standin.messages()[0]!.ts, text: 'x' }))).error).toBe('cant_update_message');
    expect(standin.callsTo('chat.update')).toHaveLength(1);
  });
});

describe('message metadata and slow answers', () => {
  it('keeps metadata, returns it from history and replies only with include_all_metadata', async () => {
    const metadata = { event_type: 'shipmate_message', event_payload: { key: 'deploy:1:status' } };
    const parent = await client.chat.postMessage({ channel: 'CRELEASE', text: 'parent', metadata });
    await client.chat.postMessage({ channel: 'CRELEASE', text: 'reply', thread_ts: parent.ts, metadata: { event_type: 'shipmate_message', event_payload: { key: 'deploy:1:step:0' } } });
    expect((await client.conversations.history({ channel: 'CRELEASE' })).messages?.[0]?.metadata).toBeUndefined();
    expect((await client.conversations.history({ channel: 'CRELEASE', include_all_metadata: true })).messages?.[0]?.metadata).toEqual(metadata);
    const replies = await client.conversations.replies({ channel: 'CRELEASE', ts: parent.ts!, include_all_metadata: true });
    expect(replies.messages?.map((m) => (m.metadata?.event_payload as { key?: string }).key)).toEqual(['deploy:1:status', 'deploy:1:step:0']);
    expect((await platformError(client.chat.postMessage({ channel: 'CRELEASE', text: 'x', metadata: { event_payload: {} } as never }))).error).toBe('invalid_metadata_format');
  });

  it('a slow answer: the call takes effect at once, the answer comes late (a client with a shorter timeout gives up)', async () => {
    standin.failNext('chat.postMessage', { delayMs: 800 });
    const impatient = new WebClient(TOKEN, { slackApiUrl: standin.url, logger, timeout: 200, retryConfig: { retries: 0 } });
    const started = Date.now();
    const err = await impatient.chat.postMessage({ channel: 'CRELEASE', text: 'posted anyway' }).then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).toBe('slack_webapi_request_error');
    expect(Date.now() - started).toBeLessThan(700);
    expect(standin.messages('CRELEASE').map((m) => m.text)).toEqual(['posted anyway']);
    standin.failNext('*', { status: 500 }, 100);
    standin.clearFailures();
    expect((await client.chat.postMessage({ channel: 'CRELEASE', text: 'back' })).ok).toBe(true);
  });
});

describe('response_url', () => {
  const postTo = async (url: string, body: unknown) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  it('records ephemeral (default) and in_channel responses, and replaces the original', async () => {
    const url = standin.responseUrlFor({ user: 'UALICE', channel: 'CRELEASE' });
    expect(url.startsWith(`${standin.origin}/response/`)).toBe(true);
    expect(await postTo(url, { text: 'only alice sees this' })).toEqual({ status: 200, body: { ok: true } });
    expect(standin.ephemerals('UALICE')).toMatchObject([{ channel: 'CRELEASE', text: 'only alice sees this' }]);
    await postTo(url, { text: 'everyone sees this', response_type: 'in_channel' });
    expect(standin.messages('CRELEASE').map((m) => m.text)).toEqual(['everyone sees this']);

    const posted = await client.chat.postMessage({ channel: 'CRELEASE', text: 'Approve v2?', blocks: [section('Approve v2?')] });
    const actionUrl = standin.responseUrlFor({ user: 'UBOB', channel: 'CRELEASE', ts: posted.ts! });
    await postTo(actionUrl, { replace_original: true, text: 'Approved by bob', blocks: [section('Approved by <@UBOB>')] });
    expect(standin.messages('CRELEASE')[1]).toMatchObject({ ts: posted.ts, text: 'Approved by bob', blocks: [section('Approved by <@UBOB>')] });
    await postTo(actionUrl, { delete_original: true });
    expect(standin.messages('CRELEASE').map((m) => m.ts)).not.toContain(posted.ts);

    const bad = await postTo(url, { text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_blocks');
    expect(standin.callsTo('response_url')).toHaveLength(5);
  });

  it('stops accepting a response_url after 5 uses', async () => {
    const url = standin.responseUrl('cmd1');
    for (let i = 0; i < 5; i++) expect((await postTo(url, { text: `#${i}` })).status).toBe(200);
    expect(await postTo(url, { text: 'sixth' })).toEqual({ status: 404, body: { ok: false, error: 'used_url' } });
  });
});

describe('waitFor and events', () => {
  it('resolves on the change and rejects with context on timeout', async () => {
    const changes: string[] = [];
    standin.events.on('change', (e: { type: string }) => changes.push(e.type));
    const waiting = standin.waitFor(() => standin.messages('CRELEASE').find((m) => m.text === 'late'));
    setTimeout(() => void client.chat.postMessage({ channel: 'CRELEASE', text: 'late' }), 30);
    expect((await waiting).text).toBe('late');
    expect(changes).toEqual(['message']);
    await expect(standin.waitFor(() => standin.messages().length > 5, 50)).rejects.toThrow(/waitFor timed out after 50ms[\s\S]*chat\.postMessage→ok/);
  });

  it('serves a JSON snapshot of its state', async () => {
    await client.chat.postMessage({ channel: 'CRELEASE', text: 'snap' });
    const state = await (await fetch(`${standin.origin}/_standin/state`)).json();
    expect(state).toEqual(JSON.parse(JSON.stringify(standin.state())));
    expect(state.messages).toMatchObject([{ channel: 'CRELEASE', text: 'snap' }]);
    expect(state.users.map((u: { id: string }) => u.id)).toEqual(['UBOT00001', 'UALICE', 'UBOB']);
  });
});

describe('requests to the bot', () => {
  const SECRET = 'shh-signing-secret';
  const verify = (body: string, headers: ReturnType<typeof signSlackRequest>, secret = SECRET) =>
    verifySlackRequest({ signingSecret: secret, body, headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']) } });

  it('signSlackRequest produces signatures Bolt accepts (and only for the right body/secret/time)', () => {
    const body = slashCommandBody({ command: '/ship', text: 'v1.2.0', user_id: 'UALICE', channel_id: 'CRELEASE', response_url: 'http://x/response/1' });
    const headers = signSlackRequest(SECRET, body);
    expect(() => verify(body, headers)).not.toThrow();
    expect(() => verify(`${body}&x=1`, headers)).toThrow(/signature mismatch/);
    expect(() => verify(body, headers, 'other-secret')).toThrow(/signature mismatch/);
    const stale = signSlackRequest(SECRET, body, Math.floor(Date.now() / 1000) - 600);
    expect(() => verify(body, stale)).toThrow(/stale/);
    expect(Object.fromEntries(new URLSearchParams(body))).toMatchObject({
      command: '/ship', text: 'v1.2.0', team_id: 'T0SHIPMATE', team_domain: 'shipmate', api_app_id: 'A0SHIPMATE', is_enterprise_install: 'false',
    });
  });

  it('drives a real Bolt app: slash command, button, modal submission', async () => {
    const app = new App({
      token: TOKEN, signingSecret: SECRET, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: standin.url, logger, retryConfig: { retries: 0 } },
    });
    const seen: Record<string, unknown> = {};
    app.command('/ship', async ({ ack, respond, command, client: c, body }) => {
      await ack();
      seen.command = command.text;
      await c.views.open({ trigger_id: body.trigger_id, view: { ...modal([section('Confirm')]), callback_id: 'confirm' } as never });
      await respond({ text: `Shipping ${command.text}` });
    });
    app.action('approve', async ({ ack, action, body, respond }) => {
      await ack();
      seen.action = { value: (action as { value?: string }).value, block_id: (action as { block_id?: string }).block_id, user: body.user.id };
      await respond({ replace_original: true, text: 'Approved' });
    });
    app.view('confirm', async ({ ack, view }) => {
      await ack();
      seen.submitted = view.state.values.b1?.a1?.value;
    });
    const server = (await app.start(0)) as { address(): AddressInfo | string | null };
    const events = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    try {
      const response_url = standin.responseUrlFor({ user: 'UALICE', channel: 'CRELEASE' });
      const cmd = await sendToBot(events, slashCommandBody({ command: '/ship', text: 'v1.2.0', user_id: 'UALICE', channel_id: 'CRELEASE', response_url }), SECRET);
      expect(cmd.status).toBe(200);
      await standin.waitFor(() => standin.ephemerals('UALICE').find((m) => m.text === 'Shipping v1.2.0'));
      expect(seen.command).toBe('v1.2.0');
      expect([...standin.views.values()]).toMatchObject([{ kind: 'modal', user: 'UALICE', view: { callback_id: 'confirm' } }]);

      const msg = await client.chat.postMessage({
        channel: 'CRELEASE', text: 'Approve?', blocks: [{ type: 'actions', block_id: 'gate', elements: [button('approve', 'Approve', 'rel-7')] }] as never,
      });
      const stored = standin.messages('CRELEASE')[0]!;
      const click = blockActionsBody({
        user: { id: 'UBOB' }, channel: { id: 'CRELEASE' }, message: { ts: msg.ts!, blocks: stored.blocks },
        actions: [{ action_id: 'approve' }], response_url: standin.responseUrlFor({ user: 'UBOB', channel: 'CRELEASE', ts: msg.ts! }),
      });
      expect((await sendToBot(events, click, SECRET)).status).toBe(200);
      await standin.waitFor(() => standin.messages('CRELEASE')[0]?.text === 'Approved');
      expect(seen.action).toEqual({ value: 'rel-7', block_id: 'gate', user: 'UBOB' });

      const submit = viewSubmissionBody({ user: { id: 'UALICE' }, view: { callback_id: 'confirm', state: { values: { b1: { a1: { type: 'plain_text_input', value: 'yes' } } } } } });
      const sub = await sendToBot(events, submit, SECRET);
      expect(sub.status).toBe(200);
      expect(seen.submitted).toBe('yes');

      const forged = await sendToBot(events, submit, SECRET, { badSignature: true });
      expect(forged.status).toBe(401);
    } finally {
      await app.stop();
    }
  });
});

describe('images and files', () => {
  it('takes an image block naming an uploaded image by slack_file, refuses unknown, unfinished or non-image files and a doubled source', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const done = await client.files.uploadV2({ file: png, filename: 'chart.png', title: 'chart' });
    const id = ((done as unknown as { files?: Array<{ files?: Array<{ id?: string }> }> }).files?.[0]?.files?.[0]?.id) as string;
    expect(id).toMatch(/^F/);
    const image = (src: Record<string, unknown>) => ({ type: 'home', blocks: [{ type: 'image', alt_text: 'chart', ...src }] });
    await client.views.publish({ user_id: 'UBOB', view: image({ slack_file: { id } }) as never });
    await client.views.publish({ user_id: 'UBOB', view: image({ slack_file: { url: standin.file(id)!.url_private } }) as never });
    const csv = await client.files.getUploadURLExternal({ filename: 'log.csv', length: 3 });
    for (const [src, problem] of [
      [{ slack_file: { id: 'F404' } }, 'invalid slack file'],
      [{ slack_file: { id: csv.file_id } }, 'invalid slack file'],
      [{ slack_file: { id, url: standin.file(id)!.url_private } }, 'invalid slack file'],
      [{ slack_file: { id }, image_url: 'https://example.com/a.png' }, 'either image_url or slack_file'],
      [{}, 'either image_url or slack_file'],
    ] as const) {
      const data = await platformError(client.views.publish({ user_id: 'UBOB', view: image(src) as never }));
      expect(data.error).toBe('invalid_blocks');
      expect(JSON.stringify(data)).toContain(problem);
    }
    expect(blockLimitProblems([{ type: 'image', image_url: 'https://example.com/a.png' }], 'message')).toEqual(['missing required field: alt_text [json-pointer:/blocks/0]']);
  });

  it('files.info says where a completed file was shared; dropAnswer completes the call and loses its answer', async () => {
    standin.failNext('files.completeUploadExternal', { dropAnswer: true });
    const err = await client.files.uploadV2({ file: Buffer.from('a,b\n'), filename: 'x.csv', channel_id: 'C0REL' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeDefined();
    const [posted] = standin.messages('C0REL');
    const id = (posted!.files![0] as { id: string }).id;
    const info = await client.files.info({ file: id });
    expect((info.file as { shares?: unknown }).shares).toEqual({ public: { C0REL: [{ ts: posted!.ts }] }, private: {} });
    expect((await platformError(client.files.info({ file: 'F0NOPE' }))).error).toBe('file_not_found');
  });
});
