// Requests *to* the bot, shaped like Slack's: v0 signing, slash command / block_actions / view_submission bodies, and a sender.
import { createHmac, randomBytes } from 'node:crypto';

const TEAM = { id: 'T0SHIPMATE', domain: 'shipmate' };
const API_APP_ID = 'A0SHIPMATE';
/** The deprecated verification token Slack still sends in every payload. */
const VERIFICATION_TOKEN = 'standin-verification-token';

type Json = Record<string, unknown>;

/** Slack's v0 request signature: HMAC-SHA256 of `v0:${ts}:${body}` with the signing secret. */
export function signSlackRequest(signingSecret: string, body: string, timestampSec = Math.floor(Date.now() / 1000)): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSec) };
}

/** A trigger_id like Slack's ("<n>.<n>.<hex>"), but carrying the user id in the middle so the stand-in knows who a modal is for. */
export function triggerIdFor(userId: string): string {
  return `${Date.now()}.${userId}.${randomBytes(16).toString('hex')}`;
}

const actionTs = () => (Date.now() / 1000).toFixed(6);

export function slashCommandBody(p: {
  command: string; text: string; user_id: string; user_name?: string; channel_id: string; channel_name?: string;
  team_id?: string; response_url: string; trigger_id?: string;
}): string {
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: p.team_id ?? TEAM.id,
    team_domain: TEAM.domain,
    channel_id: p.channel_id,
    channel_name: p.channel_name ?? (p.channel_id.startsWith('D') ? 'directmessage' : p.channel_id.toLowerCase()),
    user_id: p.user_id,
    user_name: p.user_name ?? p.user_id.toLowerCase(),
    command: p.command,
    text: p.text,
    api_app_id: API_APP_ID,
    is_enterprise_install: 'false',
    response_url: p.response_url,
    trigger_id: p.trigger_id ?? triggerIdFor(p.user_id),
  }).toString();
}

/** The block and element holding `actionId` in a list of blocks, if any (to fill block_id / type / text like Slack). */
function findElement(blocks: unknown, actionId: string): { block: Json; element: Json } | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as Json[]) {
    const elements = [...(Array.isArray(block?.elements) ? block.elements : []), block?.accessory, block?.element] as Json[];
    const element = elements.find((e) => e && e.action_id === actionId);
    if (element) return { block, element };
  }
  return undefined;
}

const userObj = (u: { id: string; username?: string }) => ({ id: u.id, username: u.username ?? u.id.toLowerCase(), name: u.username ?? u.id.toLowerCase(), team_id: TEAM.id });
const payloadBody = (payload: Json) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

export function blockActionsBody(p: {
  user: { id: string; username?: string };
  channel?: { id: string; name?: string };
  message?: { ts: string; [key: string]: unknown };
  container?: unknown;
  actions: Array<{ action_id: string; block_id?: string; value?: string; type?: string; selected_options?: unknown[]; selected_option?: unknown; text?: unknown }>;
  response_url?: string;
  trigger_id?: string;
  view?: Json;
  state?: unknown;
}): string {
  const blocks = p.view?.blocks ?? p.message?.blocks;
  const container = p.container
    ?? (p.view ? { type: 'view', view_id: p.view.id }
      : p.message ? { type: 'message', message_ts: p.message.ts, channel_id: p.channel?.id, is_ephemeral: false } : undefined);
  const actions = p.actions.map((a) => {
    const found = findElement(blocks, a.action_id);
    return {
      type: found?.element.type ?? 'button',
      ...(found?.element.text ? { text: found.element.text } : {}),
      ...(found?.element.value !== undefined && a.value === undefined ? { value: found.element.value } : {}),
      block_id: found?.block.block_id ?? 'standin_block',
      action_ts: actionTs(),
      ...Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)),
    };
  });
  return payloadBody({
    type: 'block_actions',
    user: userObj(p.user),
    api_app_id: API_APP_ID,
    token: VERIFICATION_TOKEN,
    container,
    trigger_id: p.trigger_id ?? triggerIdFor(p.user.id),
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    ...(p.channel ? { channel: { name: p.channel.id.toLowerCase(), ...p.channel } } : {}),
    ...(p.message ? { message: { type: 'message', text: '', ...p.message } } : {}),
    ...(p.view ? { view: p.view } : {}),
    state: p.state ?? { values: {} },
    ...(p.response_url ? { response_url: p.response_url } : {}),
    actions,
  });
}

export function viewSubmissionBody(p: {
  user: { id: string; username?: string };
  view: { id?: string; callback_id: string; private_metadata?: string; state: { values: Record<string, Record<string, unknown>> }; [key: string]: unknown };
  trigger_id?: string;
}): string {
  const id = p.view.id ?? `V${randomBytes(5).toString('hex').toUpperCase()}`;
  return payloadBody({
    type: 'view_submission',
    team: TEAM,
    user: userObj(p.user),
    api_app_id: API_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: p.trigger_id ?? triggerIdFor(p.user.id),
    view: {
      id, team_id: TEAM.id, type: 'modal', blocks: [], private_metadata: '', title: { type: 'plain_text', text: 'Shipmate' },
      close: null, submit: null, hash: actionTs(), clear_on_close: false, notify_on_close: false, external_id: '',
      previous_view_id: null, root_view_id: id, app_id: API_APP_ID, app_installed_team_id: TEAM.id, bot_id: 'B0SHIPMATE',
      ...p.view,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

/**
 * POSTs a signed body to the bot the way Slack does; `badSignature` signs with a wrong secret; `headers` adds
 * e.g. Slack's retry headers (`x-slack-retry-num`, `x-slack-retry-reason`) for a redelivery.
 */
export async function sendToBot(
  url: string, body: string, signingSecret: string,
  opts: { timestampSec?: number; contentType?: string; badSignature?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; json?: any; ms: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers = signSlackRequest(opts.badSignature ? `${signingSecret}-wrong` : signingSecret, body, opts.timestampSec);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded', 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...headers, ...opts.headers },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, ms };
}

/** An Events API `event_callback` envelope around `event`, as JSON (Bolt only accepts event callbacks as JSON). */
export function eventCallbackBody(p: { event: Json; team_id?: string; bot_user_id?: string; event_id?: string; event_time?: number }): string {
  const teamId = p.team_id ?? TEAM.id;
  return JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: API_APP_ID,
    event: p.event,
    type: 'event_callback',
    event_id: p.event_id ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: p.event_time ?? Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: p.bot_user_id ?? 'UBOT00001', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(12).toString('hex')}`,
  });
}

/** The `app_home_opened` event Slack sends when `user` opens the app's Home (or Messages) tab; `view` is the published Home, if any. */
export function appHomeOpenedEvent(p: { user: string; channel: string; tab?: 'home' | 'messages'; view?: Json }): Json {
  return { type: 'app_home_opened', user: p.user, channel: p.channel, tab: p.tab ?? 'home', ...(p.view ? { view: p.view } : {}), event_ts: actionTs() };
}

/** The `view_closed` payload Slack sends when a user closes a modal whose view set `notify_on_close`. */
export function viewClosedBody(p: { user: { id: string; username?: string }; view: Json; is_cleared?: boolean }): string {
  return payloadBody({
    type: 'view_closed',
    team: TEAM,
    user: userObj(p.user),
    api_app_id: API_APP_ID,
    token: VERIFICATION_TOKEN,
    view: p.view,
    is_cleared: p.is_cleared ?? false,
    is_enterprise_install: false,
    enterprise: null,
  });
}
