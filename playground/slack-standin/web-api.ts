// Slack Web API methods of the stand-in: each takes parsed args and returns the JSON body real Slack would answer with.
import { blockLimitProblems, viewLimitProblems } from './block-limits.js';
import type { StandinFile, StandinMessage, StandinView, Store } from './store.js';

type Args = Record<string, unknown>;
type Result = Record<string, unknown>;

const fail = (error: string, extra: Result = {}): Result => ({ ok: false, error, ...extra });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const bool = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;
const list = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);

/** Cursor pagination like Slack's: `limit` + opaque `cursor`, answered with response_metadata.next_cursor. */
function page<T>(items: T[], args: Args, defaultLimit = 100): { items: T[]; has_more: boolean; response_metadata: { next_cursor: string } } {
  const limit = Math.max(1, Number(args.limit) || defaultLimit);
  const cursor = str(args.cursor);
  const offset = cursor ? Number(/^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString())?.[1] ?? 0) : 0;
  const slice = items.slice(offset, offset + limit);
  const more = offset + limit < items.length;
  return { items: slice, has_more: more, response_metadata: { next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' } };
}

function invalidBlocks(problems: string[]): Result {
  return fail('invalid_blocks', { errors: problems, response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } });
}

/** text/blocks/attachments checks shared by postMessage, postEphemeral, update and response_url posts. */
export function messageProblems(args: Args, requireContent = true): Result | undefined {
  const text = str(args.text);
  const blocks = list(args.blocks);
  const attachments = list(args.attachments);
  if (args.blocks !== undefined && !blocks) return invalidBlocks(['must be an array [json-pointer:/blocks]']);
  if (requireContent && !text && !blocks?.length && !attachments?.length) return fail('no_text');
  if (text && text.length > 40000) return fail('msg_too_long');
  if (attachments && attachments.length > 100) return fail('too_many_attachments');
  const problems = [
    ...blockLimitProblems(blocks ?? [], 'message'),
    ...(attachments ?? []).flatMap((a, i) =>
      a && typeof a === 'object' && Array.isArray((a as Args).blocks) ? blockLimitProblems((a as Args).blocks as unknown[], 'message', `/attachments/${i}/blocks`) : []),
  ];
  return problems.length > 0 ? invalidBlocks(problems) : undefined;
}

/** Slack's message metadata: an event_type and an event_payload object. */
function validMetadata(v: unknown): v is { event_type: string; event_payload: Record<string, unknown> } {
  const m = v as { event_type?: unknown; event_payload?: unknown } | undefined;
  return !!m && typeof m === 'object' && typeof m.event_type === 'string' && /^[a-z0-9_]+$/i.test(m.event_type) && !!m.event_payload && typeof m.event_payload === 'object';
}

/** The user a trigger_id was issued for, when it was made by requests.ts's triggerIdFor ("<n>.<user>.<hex>"). */
const triggerUser = (trigger: string) => /^\d+\.([UW][A-Z0-9]+)\./.exec(trigger)?.[1];

export function createMethods(store: Store, origin: () => string = () => ''): Record<string, (args: Args) => Result> {
  const { botUserId, botId, teamId, teamDomain } = store.opts;

  const post = (args: Args, ephemeralUser?: string): Result => {
    const channel = store.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const bad = messageProblems(args);
    if (bad) return bad;
    if (args.metadata !== undefined && !validMetadata(args.metadata)) return fail('invalid_metadata_format');
    let threadTs = str(args.thread_ts);
    if (threadTs) {
      const parent = store.messages.find((m) => m.channel === channel.id && m.ts === threadTs && !m.ephemeral);
      if (!parent) return fail('thread_not_found');
      threadTs = parent.thread_ts ?? parent.ts; // a reply's ts threads into its parent, like Slack
    }
    const m: StandinMessage = {
      channel: channel.id, ts: store.nextTs(), user: botUserId, bot_id: botId, text: str(args.text) ?? '', replies: [],
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(list(args.blocks) ? { blocks: list(args.blocks) } : {}),
      ...(list(args.attachments) ? { attachments: list(args.attachments) } : {}),
      ...(ephemeralUser ? { ephemeral: { user: ephemeralUser } } : {}),
      ...(threadTs && bool(args.reply_broadcast) ? { reply_broadcast: true } : {}),
      ...(!ephemeralUser && validMetadata(args.metadata) ? { metadata: args.metadata } : {}),
    };
    store.messages.push(m);
    if (threadTs && !ephemeralUser) store.find(channel.id, threadTs)?.replies.push(m.ts);
    store.change({ type: ephemeralUser ? 'ephemeral' : 'message', message: m });
    return ephemeralUser ? { ok: true, message_ts: m.ts } : { ok: true, channel: channel.id, ts: m.ts, message: store.render(m) };
  };

  const target = (args: Args, tsKey = 'ts') => {
    const channel = store.resolveChannel(args.channel);
    const ts = str(args[tsKey]);
    return channel && ts ? store.find(channel.id, ts) : undefined;
  };

  // slack_file: a completed upload that is an image (png, jpg, gif), named by id or by its url_private.
  const imageFile = (ref: { id?: string; url?: string }) => {
    const f = ref.id ? store.files.get(ref.id) : [...store.files.values()].find((x) => x.url_private === ref.url);
    return !!f?.complete && /^image\/(png|jpe?g|gif)$/.test(f.mimetype);
  };

  const validView = (view: unknown, kind: 'modal' | 'home'): Result | undefined => {
    if (!view || typeof view !== 'object') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: view'] } });
    const problems = viewLimitProblems(view, kind, imageFile);
    if (problems.blocks.length > 0) return invalidBlocks(problems.blocks);
    if (problems.view.length > 0) return fail('invalid_arguments', { response_metadata: { messages: problems.view.map((p) => `[ERROR] ${p}`) } });
    return undefined;
  };

  const openView = (args: Args, type: 'view_opened' | 'view_pushed'): Result => {
    const trigger = str(args.trigger_id) ?? str(args.interactivity_pointer);
    if (!trigger) return fail('invalid_arguments', { response_metadata: { messages: ['invalid `trigger_id`'] } });
    const bad = validView(args.view, 'modal');
    if (bad) return bad;
    const view = args.view as Args;
    const external = str(view.external_id);
    if (external && [...store.views.values()].some((v) => v.external_id === external)) return fail('duplicate_external_id');
    const v: StandinView = { id: store.nextViewId(), user: triggerUser(trigger), view, kind: 'modal', hash: store.nextTs(), external_id: external };
    store.views.set(v.id, v);
    store.change({ type, view: v });
    return { ok: true, view: store.renderView(v) };
  };

  const kindOf = (c: { id: string; is_im?: boolean; is_private?: boolean }) =>
    c.is_im ? 'im' : c.id.startsWith('D') ? 'mpim' : c.is_private ? 'private_channel' : 'public_channel';
  const channelsOf = (args: Args) => {
    const types = (str(args.types) ?? 'public_channel').split(',').map((t) => t.trim());
    return [...store.channels.values()].filter((c) => types.includes(kindOf(c)));
  };

  return {
    'api.test': (args) => ({ ok: true, args }),

    'auth.test': () => ({
      ok: true, url: `https://${teamDomain}.slack.com/`, team: 'Shipmate', user: store.users.get(botUserId)?.name ?? 'shipmate',
      team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false,
    }),

    'chat.postMessage': (args) => post(args),

    'chat.postEphemeral': (args) => {
      const user = str(args.user);
      if (!user) return fail('user_not_found');
      return post(args, user);
    },

    'chat.update': (args) => {
      const channel = store.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const m = target(args);
      if (!m) return fail('message_not_found');
      if (m.bot_id !== botId) return fail('cant_update_message');
      const bad = messageProblems(args, false);
      if (bad) return bad;
      if (args.text !== undefined) m.text = str(args.text) ?? '';
      if (args.blocks !== undefined) m.blocks = list(args.blocks);
      if (args.attachments !== undefined) m.attachments = list(args.attachments);
      if (!m.text && !m.blocks?.length && !m.attachments?.length) return fail('no_text');
      m.edited = { ts: store.nextTs() };
      store.change({ type: 'message_changed', message: m });
      return { ok: true, channel: m.channel, ts: m.ts, text: m.text ?? '', message: store.render(m) };
    },

    'chat.delete': (args) => {
      const m = target(args);
      if (!m) return store.resolveChannel(args.channel) ? fail('message_not_found') : fail('channel_not_found');
      if (m.bot_id !== botId) return fail('cant_delete_message');
      m.deleted = true;
      store.change({ type: 'message_deleted', message: m });
      return { ok: true, channel: m.channel, ts: m.ts };
    },

    'chat.getPermalink': (args) => {
      const m = target(args, 'message_ts');
      if (!m) return fail('message_not_found');
      const base = `https://${teamDomain}.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}`;
      return { ok: true, channel: m.channel, permalink: m.thread_ts ? `${base}?thread_ts=${m.thread_ts}&cid=${m.channel}` : base };
    },

    'reactions.add': (args) => {
      const name = str(args.name)?.replace(/:/g, '');
      const m = target(args, 'timestamp');
      if (!m) return fail('message_not_found');
      if (!name) return fail('invalid_name');
      m.reactions ??= [];
      let r = m.reactions.find((x) => x.name === name);
      if (r?.users.includes(botUserId)) return fail('already_reacted');
      if (!r) m.reactions.push((r = { name, users: [], count: 0 }));
      r.users.push(botUserId);
      r.count = r.users.length;
      store.change({ type: 'reaction_added', message: m });
      return { ok: true };
    },

    'conversations.open': (args) => {
      const existing = str(args.channel);
      const users = Array.isArray(args.users) ? args.users.map(String) : str(args.users)?.split(',').map((u) => u.trim()).filter(Boolean);
      let ch = existing ? store.channels.get(existing) : undefined;
      if (existing && !ch) return fail('channel_not_found');
      if (!ch) {
        if (!users?.length) return fail('users_list_not_supplied');
        if (users.length > 8) return fail('too_many_users');
        if (users.some((u) => !/^[UW][A-Z0-9]+$/.test(u))) return fail('user_not_found');
        ch = store.dmFor(users);
      }
      return { ok: true, channel: bool(args.return_im) ? store.renderChannel(ch) : { id: ch.id } };
    },

    'conversations.info': (args) => {
      const ch = str(args.channel)?.match(/^[CGD]/) ? store.resolveChannel(args.channel) : undefined;
      return ch ? { ok: true, channel: store.renderChannel(ch) } : fail('channel_not_found');
    },

    'conversations.list': (args) => {
      const p = page(channelsOf(args), args);
      return { ok: true, channels: p.items.map((c) => store.renderChannel(c)), response_metadata: p.response_metadata };
    },

    'conversations.history': (args) => {
      const ch = store.resolveChannel(args.channel);
      if (!ch) return fail('channel_not_found');
      const oldest = Number(str(args.oldest) ?? 0);
      const latest = Number(str(args.latest) ?? Infinity);
      const incl = bool(args.inclusive);
      const msgs = store.messages
        .filter((m) => m.channel === ch.id && !m.deleted && !m.ephemeral && (!m.thread_ts || m.reply_broadcast))
        .filter((m) => { const t = Number(m.ts); return incl ? t >= oldest && t <= latest : t > oldest && t < latest; })
        .reverse();
      const p = page(msgs, args);
      return { ok: true, messages: p.items.map((m) => store.render(m, { metadata: bool(args.include_all_metadata) })), has_more: p.has_more, pin_count: 0, response_metadata: p.response_metadata };
    },

    'conversations.replies': (args) => {
      const ch = store.resolveChannel(args.channel);
      if (!ch) return fail('channel_not_found');
      const hit = target(args);
      const parent = hit?.thread_ts ? store.find(ch.id, hit.thread_ts) : hit;
      if (!parent) return fail('thread_not_found');
      const thread = [parent, ...parent.replies.map((ts) => store.find(ch.id, ts)).filter((m): m is StandinMessage => !!m)];
      const p = page(thread, args, 1000);
      return { ok: true, messages: p.items.map((m) => store.render(m, { metadata: bool(args.include_all_metadata) })), has_more: p.has_more, response_metadata: p.response_metadata };
    },

    'users.info': (args) => {
      const u = store.users.get(str(args.user) ?? '');
      return u ? { ok: true, user: store.renderUser(u) } : fail('user_not_found');
    },

    'users.list': (args) => {
      const p = page([...store.users.values()], args, 200);
      return { ok: true, members: p.items.map((u) => store.renderUser(u)), cache_ts: Math.floor(Date.now() / 1000), response_metadata: p.response_metadata };
    },

    'usergroups.list': (args) => ({
      ok: true,
      usergroups: [...store.usergroups.values()].map((g) => ({
        id: g.id, team_id: teamId, is_usergroup: true, is_subteam: true, name: g.name ?? g.handle, description: '', handle: g.handle,
        is_external: false, date_create: 0, date_update: 0, date_delete: 0, auto_type: null, auto_provision: false,
        enterprise_subteam_id: '', created_by: botUserId, updated_by: botUserId, deleted_by: null, prefs: { channels: [], groups: [] },
        ...(bool(args.include_users) ? { users: g.users } : {}), user_count: g.users.length,
      })),
    }),

    'usergroups.users.list': (args) => {
      const g = store.usergroups.get(str(args.usergroup) ?? '');
      return g ? { ok: true, users: [...g.users] } : fail('no_such_subteam');
    },

    'views.open': (args) => openView(args, 'view_opened'),
    'views.push': (args) => openView(args, 'view_pushed'),

    'views.update': (args) => {
      const id = str(args.view_id);
      const external = str(args.external_id);
      const v = id ? store.views.get(id) : [...store.views.values()].find((x) => external && x.external_id === external);
      if (!id && !external) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view_id or external_id is required'] } });
      if (!v) return fail('not_found');
      const bad = validView(args.view, v.kind);
      if (bad) return bad;
      const hash = str(args.hash);
      if (hash && hash !== v.hash) return fail('hash_conflict');
      v.view = args.view;
      v.hash = store.nextTs();
      store.change({ type: 'view_updated', view: v });
      return { ok: true, view: store.renderView(v) };
    },

    // files.uploadV2 in @slack/web-api is these two calls with an upload of the bytes in between (server.ts takes it).
    'files.getUploadURLExternal': (args) => {
      const filename = str(args.filename);
      const length = Number(args.length);
      if (!filename || !Number.isInteger(length) || length <= 0) return fail('invalid_arguments');
      const id = `F${String(store.files.size + 1).padStart(9, '0')}`;
      const url = `${origin()}/_standin/files/${id}`;
      store.files.set(id, { id, name: filename, mimetype: /\.png$/i.test(filename) ? 'image/png' : /\.jpe?g$/i.test(filename) ? 'image/jpeg' : /\.gif$/i.test(filename) ? 'image/gif' : /\.csv$/i.test(filename) ? 'text/csv' : /\.json$/i.test(filename) ? 'application/json' : 'application/octet-stream', size: length, url_private: url, complete: false, channels: [] });
      return { ok: true, upload_url: `${origin()}/_standin/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (args) => {
      const wanted = list(args.files) as Array<{ id?: string; title?: string }> | undefined;
      if (!wanted?.length) return fail('invalid_arguments');
      const files = wanted.map((w) => store.files.get(String(w.id)));
      if (files.some((f) => !f?.bytes)) return fail('file_not_found');
      const channelId = str(args.channel_id);
      const channel = channelId ? store.resolveChannel(channelId) : undefined;
      if (channelId && !channel) return fail('channel_not_found');
      const done = files.map((f, i) => {
        const file = f as StandinFile & { bytes?: Buffer };
        file.complete = true;
        if (wanted[i]?.title) file.title = wanted[i].title;
        if (channel) file.channels.push(channel.id);
        const { bytes: _b, ...shown } = file;
        return shown;
      });
      if (channel) {
        const threadTs = str(args.thread_ts);
        const parent = threadTs ? store.messages.find((m) => m.channel === channel.id && m.ts === threadTs && !m.ephemeral) : undefined;
        if (threadTs && !parent) return fail('thread_not_found');
        const m: StandinMessage = { channel: channel.id, ts: store.nextTs(), user: botUserId, bot_id: botId, text: str(args.initial_comment) ?? '', replies: [], files: done, ...(parent ? { thread_ts: parent.thread_ts ?? parent.ts } : {}) };
        store.messages.push(m);
        if (parent) store.find(channel.id, parent.thread_ts ?? parent.ts)?.replies.push(m.ts);
        store.change({ type: 'message', message: m });
      }
      return { ok: true, files: done };
    },
    // A completed file with where it was shared (files.info's `shares`: public/private → channel → [{ ts, thread_ts }]).
    'files.info': (args) => {
      const file = store.files.get(str(args.file) ?? '');
      if (!file?.complete) return fail('file_not_found');
      const shares: Record<'public' | 'private', Record<string, Array<{ ts: string; thread_ts?: string }>>> = { public: {}, private: {} };
      for (const m of store.messages) {
        if (m.deleted || !m.files?.some((x) => x.id === file.id)) continue;
        const ch = store.channels.get(m.channel);
        ((shares[ch?.is_private || ch?.is_im ? 'private' : 'public'][m.channel] ??= [])).push({ ts: m.ts, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) });
      }
      const { bytes: _b, ...shown } = file;
      return { ok: true, file: { ...shown, shares } };
    },
    'views.publish': (args) => {
      const user = str(args.user_id);
      if (!user) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: user_id'] } });
      if (!/^[UW][A-Z0-9]+$/.test(user)) return fail('user_not_found');
      const bad = validView(args.view, 'home');
      if (bad) return bad;
      let v = [...store.views.values()].find((x) => x.kind === 'home' && x.user === user);
      const hash = str(args.hash);
      if (v && hash && hash !== v.hash) return fail('hash_conflict');
      if (!v) store.views.set((v = { id: store.nextViewId(), user, view: args.view, kind: 'home', hash: '' }).id, v);
      v.view = args.view;
      v.hash = store.nextTs();
      store.change({ type: 'home_published', view: v });
      return { ok: true, view: store.renderView(v) };
    },
  };
}
