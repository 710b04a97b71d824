// Turns what a person does on the playground page into the signed, Slack-shaped requests Slack itself would send to the bot.
import { createHash } from 'node:crypto';
import { SLASH_COMMANDS } from '../commands/index.js';
import type { Logger } from '../src/core/logger.js';
import {
  appHomeOpenedEvent, blockActionsBody, eventCallbackBody, sendToBot, slashCommandBody, triggerIdFor, viewClosedBody, viewSubmissionBody,
} from './slack-standin/requests.js';
import type { SlackStandin, StandinMessage, StandinView } from './slack-standin/server.js';

type Json = Record<string, unknown>;
/** `state.values` as Slack sends it: block_id → action_id → element state. */
export type StateValues = Record<string, Record<string, Json>>;

export interface ActionInput {
  action_id: string;
  block_id?: string;
  type?: string;
  value?: string;
  text?: unknown;
  selected_options?: unknown[];
  selected_option?: unknown;
}

export type BotReply = { status: number; json?: Json; error?: string };

const TEAM_ID = 'T0SHIPMATE';
const APP_ID = 'A0SHIPMATE';

/** The bot's DM channel with a user, with the same id the stand-in gives it. */
export function dmChannelId(user: string): string {
  return `D${createHash('sha1').update(user).digest('hex').slice(0, 10).toUpperCase()}`;
}

/** A stored view as Slack puts it in payloads (block_actions, view_submission, app_home_opened). */
export function viewPayload(v: StandinView, values: StateValues = {}): Json {
  return {
    id: v.id, team_id: TEAM_ID, type: v.kind, title: null, submit: null, close: null, blocks: [], private_metadata: '',
    callback_id: '', external_id: v.external_id ?? '', clear_on_close: false, notify_on_close: false,
    ...v.view, state: { values }, hash: v.hash, previous_view_id: null, root_view_id: v.id, app_id: APP_ID,
    app_installed_team_id: TEAM_ID, bot_id: 'B0SHIPMATE',
  };
}

/** A stored message as Slack puts it in a block_actions payload. */
function messagePayload(m: StandinMessage): Json {
  return {
    type: 'message', user: m.user, ts: m.ts, text: m.text ?? '', team: TEAM_ID,
    ...(m.bot_id ? { bot_id: m.bot_id, app_id: APP_ID } : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
  };
}

/**
 * The state.values Slack sends with a message action: every checkbox / select in the message with what it shows,
 * except the element just used, which carries its new selection.
 */
function messageState(blocks: unknown[] | undefined, action: ActionInput): StateValues {
  const values: StateValues = {};
  for (const block of (blocks ?? []) as Json[]) {
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    if (!blockId) continue;
    const elements = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory].filter(Boolean) as Json[];
    for (const el of elements) {
      const id = el.action_id as string | undefined;
      if (!id) continue;
      const used = id === action.action_id && blockId === action.block_id;
      if (el.type === 'checkboxes') {
        (values[blockId] ??= {})[id] = { type: 'checkboxes', selected_options: used ? action.selected_options ?? [] : el.initial_options ?? [] };
      } else if (el.type === 'static_select' || el.type === 'radio_buttons') {
        const selected = used ? action.selected_option : el.initial_option;
        (values[blockId] ??= {})[id] = { type: el.type, selected_option: selected ?? null };
      }
    }
  }
  return values;
}

export class SlackBridge {
  constructor(
    private readonly opts: {
      botUrl: string;
      signingSecret: string;
      standin: SlackStandin;
      userName: (id: string) => string;
      log: Logger;
    },
  ) {}

  /** The registered slash commands (what Slack would know from the app's manifest). */
  get commands(): readonly string[] {
    return SLASH_COMMANDS;
  }

  private async send(body: string, contentType?: string): Promise<BotReply> {
    try {
      const res = await sendToBot(this.opts.botUrl, body, this.opts.signingSecret, { contentType });
      return { status: res.status, json: res.json && typeof res.json === 'object' ? (res.json as Json) : undefined, ...(res.status === 200 ? {} : { error: `http_${res.status}` }) };
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'playground could not reach the bot');
      return { status: 0, error: 'dispatch_failed' };
    }
  }

  /** A slash command typed by `user` in `channel`. */
  async command(p: { user: string; channel: string; command: string; text: string }): Promise<BotReply> {
    const { standin } = this.opts;
    const body = slashCommandBody({
      command: p.command, text: p.text, user_id: p.user, user_name: this.opts.userName(p.user), channel_id: p.channel,
      channel_name: standin.state().channels.find((c) => c.id === p.channel)?.name, response_url: standin.responseUrlFor({ user: p.user, channel: p.channel }),
      trigger_id: triggerIdFor(p.user),
    });
    return this.send(body);
  }

  /**
   * Shows a command's ack body the way Slack does: an ephemeral (or in-channel) message from the bot. Returns its ts,
   * or why Slack would not have shown it (invalid_blocks…).
   */
  async showAck(p: { user: string; channel: string; ack: Json }): Promise<{ ts?: string; error?: string }> {
    const { standin } = this.opts;
    const { text, blocks } = p.ack;
    if (typeof text !== 'string' && !Array.isArray(blocks)) return {};
    const inChannel = p.ack.response_type === 'in_channel';
    const res = await fetch(standin.responseUrlFor({ user: p.user, channel: p.channel }), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: inChannel ? 'in_channel' : 'ephemeral', text: text ?? '', ...(Array.isArray(blocks) ? { blocks } : {}) }),
    });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as Json;
      this.opts.log.warn({ status: res.status, body }, 'playground could not show a command reply');
      return { error: typeof body.error === 'string' ? body.error : `http_${res.status}` };
    }
    const shown = inChannel ? standin.messages(p.channel) : standin.ephemerals(p.user).filter((m) => m.channel === p.channel);
    return { ts: shown.filter((m) => m.text === (text ?? '')).at(-1)?.ts };
  }

  /** A click (button, checkbox, select) on a message in a channel or a thread. */
  async messageAction(p: { user: string; message: StandinMessage; action: ActionInput }): Promise<BotReply> {
    const { standin } = this.opts;
    const m = p.message;
    const channelName = standin.state().channels.find((c) => c.id === m.channel)?.name ?? m.channel.toLowerCase();
    const body = blockActionsBody({
      user: { id: p.user, username: this.opts.userName(p.user) },
      channel: { id: m.channel, name: channelName },
      container: { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: !!m.ephemeral, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) },
      // Slack leaves the message out of actions on ephemeral messages.
      ...(m.ephemeral ? {} : { message: messagePayload(m) as { ts: string } }),
      actions: [p.action],
      response_url: standin.responseUrlFor({ user: p.user, channel: m.channel, ts: m.ts }),
      trigger_id: triggerIdFor(p.user),
      state: { values: messageState(m.blocks, p.action) },
    });
    return this.send(body);
  }

  /** A click inside a modal or the App Home; `values` is what the view's inputs hold now. */
  async viewAction(p: { user: string; view: StandinView; action: ActionInput; values?: StateValues }): Promise<BotReply> {
    const view = viewPayload(p.view, p.values ?? {});
    const body = blockActionsBody({
      user: { id: p.user, username: this.opts.userName(p.user) },
      view,
      container: { type: 'view', view_id: p.view.id },
      actions: [p.action],
      trigger_id: triggerIdFor(p.user),
      state: { values: p.values ?? {} },
    });
    return this.send(body);
  }

  /** The Submit button of a modal. */
  async submit(p: { user: string; view: StandinView; values: StateValues }): Promise<BotReply> {
    const view = viewPayload(p.view, p.values) as Parameters<typeof viewSubmissionBody>[0]['view'];
    return this.send(viewSubmissionBody({ user: { id: p.user, username: this.opts.userName(p.user) }, view, trigger_id: triggerIdFor(p.user) }));
  }

  /** Closing a modal: Slack tells the app only when the view asked for it (notify_on_close). */
  async closed(p: { user: string; view: StandinView; values?: StateValues }): Promise<BotReply | undefined> {
    if (!(p.view.view as Json | undefined)?.notify_on_close) return undefined;
    return this.send(viewClosedBody({ user: { id: p.user, username: this.opts.userName(p.user) }, view: viewPayload(p.view, p.values ?? {}) }));
  }

  /** Opening the App Home tab: an app_home_opened event, as JSON like every Events API request. */
  async homeOpened(user: string): Promise<BotReply> {
    const home = [...this.opts.standin.views.values()].find((v) => v.kind === 'home' && v.user === user);
    const event = appHomeOpenedEvent({ user, channel: dmChannelId(user), tab: 'home', ...(home ? { view: viewPayload(home) } : {}) });
    return this.send(eventCallbackBody({ event, bot_user_id: this.opts.standin.state().botUserId }), 'application/json');
  }
}
