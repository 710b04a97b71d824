// In-memory workspace state of the Slack stand-in: users, channels, user groups, messages, views, plus Slack-shaped renderers.
import { tzOffset } from '@date-fns/tz';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';

export interface StandinMessage {
  channel: string;
  ts: string;
  /** Set on replies only (the parent's ts); a parent lists its replies in `replies`. */
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  edited?: { ts: string };
  replies: string[];
  ephemeral?: { user: string };
  deleted?: boolean;
  reply_broadcast?: boolean;
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  /** Files shared with the message (files.completeUploadExternal). */
  files?: StandinFile[];
  /** Message metadata (chat.postMessage `metadata`), returned by history/replies with include_all_metadata. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}
/** An uploaded file (files.getUploadURLExternal → upload → files.completeUploadExternal); its bytes at `url_private`. */
export interface StandinFile { id: string; name: string; title?: string; mimetype: string; size: number; url_private: string; complete: boolean; channels: string[] }
export interface StandinUser { id: string; name: string; real_name?: string; is_bot?: boolean; /** IANA zone users.info reports (default Etc/UTC). */ tz?: string }
export interface StandinChannel { id: string; name: string; is_im?: boolean; is_private?: boolean; user?: string; members?: string[] }
export interface StandinUserGroup { id: string; handle: string; users: string[]; name?: string }
export interface StandinView { id: string; user?: string; view: any; kind: 'modal' | 'home'; hash: string; external_id?: string } // eslint-disable-line @typescript-eslint/no-explicit-any
export interface ChangeEvent { type: string; message?: StandinMessage; view?: StandinView; user?: StandinUser; channel?: StandinChannel; usergroup?: StandinUserGroup }

export interface StoreOptions { botUserId: string; botId: string; teamId: string; appId: string; teamDomain: string }

export interface StoreSnapshot {
  botUserId: string;
  teamId: string;
  users: StandinUser[];
  channels: StandinChannel[];
  usergroups: StandinUserGroup[];
  messages: StandinMessage[];
  views: StandinView[];
}

export class Store {
  readonly users = new Map<string, StandinUser>();
  readonly channels = new Map<string, StandinChannel>();
  readonly usergroups = new Map<string, StandinUserGroup>();
  readonly messages: StandinMessage[] = [];
  readonly views = new Map<string, StandinView>();
  /** Uploaded files and their bytes (kept in memory only). */
  readonly files = new Map<string, StandinFile & { bytes?: Buffer }>();
  readonly events = new EventEmitter();
  private lastMicros = 0;
  private viewSeq = 0;

  constructor(readonly opts: StoreOptions) {
    this.users.set(opts.botUserId, { id: opts.botUserId, name: 'shipmate', real_name: 'Shipmate', is_bot: true });
  }

  change(e: ChangeEvent): void {
    this.events.emit('change', e);
  }

  /** Unique, increasing Slack timestamps: "1732170000.000100". */
  nextTs(): string {
    this.lastMicros = Math.max(this.lastMicros + 1, Date.now() * 1000);
    return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, '0')}`;
  }

  nextViewId(): string {
    return `V${String(++this.viewSeq).padStart(10, '0')}`;
  }

  addUser(u: StandinUser): void {
    this.users.set(u.id, { ...u });
    this.change({ type: 'user_added', user: u });
  }
  addChannel(c: StandinChannel): void {
    this.channels.set(c.id, { ...c });
    this.change({ type: 'channel_added', channel: c });
  }
  addUserGroup(g: StandinUserGroup): void {
    this.usergroups.set(g.id, { ...g, users: [...g.users] });
    this.change({ type: 'usergroup_added', usergroup: g });
  }

  /** The DM channel between the bot and a set of users; the id is a stable hash of the sorted user ids. */
  dmFor(users: string[]): StandinChannel {
    const key = [...new Set(users)].sort();
    const id = `D${createHash('sha1').update(key.join(',')).digest('hex').slice(0, 10).toUpperCase()}`;
    let ch = this.channels.get(id);
    if (!ch) {
      ch = { id, name: key.join('-').toLowerCase(), is_im: key.length === 1, user: key.length === 1 ? key[0] : undefined, members: key };
      this.addChannel(ch);
    }
    return ch;
  }

  /**
   * Resolves a `channel` argument the way chat.postMessage does: C/G/D ids (unknown well-formed ids are registered),
   * a user id (the bot's DM with that user) or the name of a known channel. undefined → channel_not_found.
   */
  resolveChannel(arg: unknown): StandinChannel | undefined {
    if (typeof arg !== 'string' || arg === '') return undefined;
    const known = this.channels.get(arg);
    if (known) return known;
    if (/^[CG][A-Z0-9]+$/.test(arg)) {
      const ch = { id: arg, name: arg.toLowerCase(), is_private: arg.startsWith('G') };
      this.addChannel(ch);
      return ch;
    }
    if (/^D[A-Z0-9]+$/.test(arg)) {
      const ch = { id: arg, name: arg.toLowerCase(), is_im: true };
      this.addChannel(ch);
      return ch;
    }
    if (/^[UW][A-Z0-9]+$/.test(arg)) return this.dmFor([arg]);
    const name = arg.replace(/^#/, '');
    return [...this.channels.values()].find((c) => c.name === name && !c.is_im);
  }

  find(channel: string, ts: string, opts: { ephemeral?: boolean } = {}): StandinMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted && (opts.ephemeral || !m.ephemeral));
  }

  /** A stored message rendered like Slack's API renders it (conversations.history, chat.postMessage's `message`). */
  render(m: StandinMessage, opts: { metadata?: boolean } = {}): Record<string, unknown> {
    const { botId, botUserId, teamId, appId } = this.opts;
    const isBot = m.bot_id !== undefined;
    const out: Record<string, unknown> = {
      type: 'message',
      ...(m.reply_broadcast ? { subtype: 'thread_broadcast' } : {}),
      text: m.text ?? '',
      user: m.user,
      ts: m.ts,
      team: teamId,
      ...(isBot ? { bot_id: m.bot_id, app_id: appId, bot_profile: { id: botId, app_id: appId, name: 'Shipmate', team_id: teamId, deleted: false } } : {}),
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.attachments ? { attachments: m.attachments } : {}),
      ...(m.edited ? { edited: { user: botUserId, ts: m.edited.ts } } : {}),
      ...(m.reactions?.length ? { reactions: m.reactions } : {}),
      ...(opts.metadata && m.metadata ? { metadata: m.metadata } : {}),
    };
    if (m.thread_ts) {
      out.thread_ts = m.thread_ts;
      out.parent_user_id = this.messages.find((p) => p.channel === m.channel && p.ts === m.thread_ts)?.user;
    }
    const replies = m.replies.map((ts) => this.find(m.channel, ts)).filter((r): r is StandinMessage => r !== undefined);
    if (replies.length > 0) {
      const last = replies[replies.length - 1]!;
      Object.assign(out, {
        thread_ts: m.ts,
        reply_count: replies.length,
        reply_users: [...new Set(replies.map((r) => r.user))],
        reply_users_count: new Set(replies.map((r) => r.user)).size,
        latest_reply: last.ts,
        is_locked: false,
        subscribed: false,
      });
    }
    return out;
  }

  renderUser(u: StandinUser): Record<string, unknown> {
    const real = u.real_name ?? u.name;
    return {
      id: u.id, team_id: this.opts.teamId, name: u.name, deleted: false, real_name: real, ...zoneFields(u.tz),
      is_admin: false, is_owner: false, is_bot: u.is_bot ?? false, is_app_user: false, updated: 0,
      profile: { real_name: real, display_name: u.name, real_name_normalized: real, display_name_normalized: u.name, team: this.opts.teamId },
    };
  }

  renderChannel(c: StandinChannel): Record<string, unknown> {
    if (c.is_im) return { id: c.id, created: 0, is_im: true, is_org_shared: false, user: c.user, is_user_deleted: false, priority: 0 };
    const mpim = c.id.startsWith('D');
    return {
      id: c.id, name: c.name, name_normalized: c.name, is_channel: !c.is_private && !mpim, is_group: !!c.is_private, is_im: false,
      is_mpim: mpim, is_private: !!c.is_private || mpim, created: 0, is_archived: false, is_general: false, is_shared: false,
      is_org_shared: false, is_member: true, creator: '', topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 }, num_members: c.members?.length ?? 0,
    };
  }

  renderView(v: StandinView): Record<string, unknown> {
    const { teamId, appId, botId } = this.opts;
    return {
      id: v.id, team_id: teamId, type: v.kind, title: null, submit: null, close: null, blocks: [], private_metadata: '',
      callback_id: '', external_id: v.external_id ?? '', clear_on_close: false, notify_on_close: false,
      ...v.view, state: { values: {} }, hash: v.hash, previous_view_id: null, root_view_id: v.id, app_id: appId,
      app_installed_team_id: teamId, bot_id: botId,
    };
  }

  /** Puts back a snapshot (playground restart); timestamps and view ids continue after the restored ones. */
  restore(s: StoreSnapshot): void {
    s.users.forEach((u) => this.users.set(u.id, u));
    s.channels.forEach((c) => this.channels.set(c.id, c));
    s.usergroups.forEach((g) => this.usergroups.set(g.id, g));
    this.messages.push(...s.messages);
    s.views.forEach((v) => this.views.set(v.id, v));
    for (const m of s.messages) this.lastMicros = Math.max(this.lastMicros, Math.round(Number(m.ts) * 1e6));
    for (const v of s.views) this.viewSeq = Math.max(this.viewSeq, Number(v.id.slice(1)) || 0);
  }

  snapshot(): StoreSnapshot {
    return structuredClone({
      botUserId: this.opts.botUserId,
      teamId: this.opts.teamId,
      users: [...this.users.values()],
      channels: [...this.channels.values()],
      usergroups: [...this.usergroups.values()],
      messages: this.messages,
      views: [...this.views.values()],
    });
  }
}

/** users.info's tz, tz_label and tz_offset (seconds east of UTC, now) for a user's zone. */
function zoneFields(tz = 'Etc/UTC'): { tz: string; tz_label: string; tz_offset: number } {
  const offsetMin = tzOffset(tz, new Date());
  const label = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'long' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value ?? tz;
  return { tz, tz_label: label, tz_offset: offsetMin * 60 };
}
