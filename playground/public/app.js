// Shipmate playground page: renders the stand-in's workspace (channels, Block Kit messages, threads, modals, App Home)
// and sends what you do to the playground server, which turns it into signed Slack requests to the bot.
/* global document, window, fetch, EventSource, localStorage, URLSearchParams, Node, CSS, setTimeout, clearTimeout */

const $ = (id) => document.getElementById(id);

/** The shortcodes Shipmate uses, and other common ones; unknown ones stay as text. */
const EMOJI = {
  white_check_mark: '✅', heavy_check_mark: '✔️', ballot_box_with_check: '☑️', x: '❌', heavy_multiplication_x: '✖️', warning: '⚠️',
  hourglass: '⏳', hourglass_flowing_sand: '⏳', arrows_counterclockwise: '🔄', repeat: '🔁', double_vertical_bar: '⏸️',
  no_entry_sign: '🚫', no_entry: '⛔', stop_sign: '🛑', white_square: '⬜', white_large_square: '⬜', black_square_button: '🔲',
  fast_forward: '⏩', rewind: '⏪', rocket: '🚀', information_source: 'ℹ️', lock: '🔒', unlock: '🔓', key: '🔑', clipboard: '📋',
  memo: '📝', pencil: '📝', pencil2: '✏️', tada: '🎉', rotating_light: '🚨', fire: '🔥', bug: '🐛', sparkles: '✨', package: '📦',
  ship: '🚢', bell: '🔔', eyes: '👀', thumbsup: '👍', '+1': '👍', thumbsdown: '👎', '-1': '👎', wave: '👋', raised_hands: '🙌',
  pray: '🙏', red_circle: '🔴', large_green_circle: '🟢', green_circle: '🟢', large_yellow_circle: '🟡', yellow_circle: '🟡',
  large_blue_circle: '🔵', large_orange_circle: '🟠', calendar: '📅', date: '📅', clock3: '🕒', stopwatch: '⏱️', alarm_clock: '⏰',
  chart_with_upwards_trend: '📈', chart_with_downwards_trend: '📉', bar_chart: '📊', wrench: '🔧', hammer_and_wrench: '🛠️',
  gear: '⚙️', shield: '🛡️', link: '🔗', mag: '🔍', arrow_right: '➡️', arrow_left: '⬅️', leftwards_arrow_with_hook: '↩️', back: '🔙',
  checkered_flag: '🏁', construction: '🚧', triangular_flag_on_post: '🚩', speech_balloon: '💬', bulb: '💡', question: '❓',
  exclamation: '❗', heavy_exclamation_mark: '❗', zap: '⚡', boom: '💥', new: '🆕', vertical_traffic_light: '🚦', traffic_light: '🚥',
  file_folder: '📁', scroll: '📜', label: '🏷️', bookmark: '🔖', loudspeaker: '📢', mega: '📣', busts_in_silhouette: '👥',
  bust_in_silhouette: '👤', crossed_fingers: '🤞', hammer: '🔨', test_tube: '🧪', label_tag: '🏷️', ok: '🆗', sos: '🆘',
  white_circle: '⚪', black_circle: '⚫', heavy_plus_sign: '➕', heavy_minus_sign: '➖', arrow_up: '⬆️', arrow_down: '⬇️',
  receipt: '🧾', hourglass_done: '⌛', calendar_spiral: '🗓️', spiral_calendar_pad: '🗓️', envelope: '✉️', inbox_tray: '📥', outbox_tray: '📤',
};

const ui = {
  data: null,
  user: null,
  /** A channel id, or 'home' for the App Home tab. */
  place: null,
  /** The open thread: { channel, ts }. */
  thread: null,
  /** Last seen message ts per user and channel, for unread counts. */
  seen: {},
  modalKey: null,
  homeKey: null,
  homeRequested: null,
};

// ---------------------------------------------------------------- small helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'html') el.innerHTML = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
/** Slack escapes &, < and > in message text; undo that before escaping for HTML. */
const decode = (s) => String(s ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/**
 * Stand-ins for machines without a colour emoji font (headless servers, CI): a symbol most fonts have, coloured, so
 * a status stays readable at a glance.
 */
const MONO_EMOJI = {
  white_check_mark: ['✔', 'ok'], heavy_check_mark: ['✔', 'ok'], ballot_box_with_check: ['☑', 'ok'], x: ['✖', 'bad'],
  heavy_multiplication_x: ['✖', 'bad'], warning: ['⚠', 'warn'], hourglass: ['◷', 'wait'], hourglass_flowing_sand: ['◷', 'wait'],
  arrows_counterclockwise: ['↻', 'run'], repeat: ['↻', 'run'], double_vertical_bar: ['‖', 'wait'], no_entry_sign: ['⊘', 'bad'],
  no_entry: ['⊖', 'bad'], stop_sign: ['⊖', 'bad'], white_square: ['☐', 'wait'], white_large_square: ['☐', 'wait'], fast_forward: ['»', 'wait'],
  rocket: ['➚', 'run'], information_source: ['ℹ', 'run'], lock: ['◆', 'warn'], clipboard: ['☰', 'wait'], tada: ['★', 'ok'],
  rotating_light: ['⚠', 'bad'], red_circle: ['●', 'bad'], large_green_circle: ['●', 'ok'], green_circle: ['●', 'ok'],
  large_yellow_circle: ['●', 'warn'], yellow_circle: ['●', 'warn'], large_blue_circle: ['●', 'run'], arrow_right: ['→', 'wait'],
  leftwards_arrow_with_hook: ['↩', 'run'], rewind: ['«', 'wait'], memo: ['✎', 'wait'], pencil: ['✎', 'wait'], pencil2: ['✎', 'wait'],
  receipt: ['☰', 'wait'], question: ['?', 'warn'], exclamation: ['!', 'bad'], heavy_exclamation_mark: ['!', 'bad'], zap: ['ϟ', 'warn'], sparkles: ['✦', 'ok'],
};

/** True when this browser draws emoji in colour (checked once, by drawing ✅ on a canvas). */
const colorEmoji = (() => {
  try {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 24;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    g.textBaseline = 'top';
    g.font = '20px sans-serif';
    g.fillText('✅', 0, 0);
    const px = g.getImageData(0, 0, 24, 24).data;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && Math.abs(px[i] - px[i + 1]) + Math.abs(px[i + 1] - px[i + 2]) > 60) return true;
    return false;
  } catch {
    return true;
  }
})();

const EMOJI_NAME = new Map(Object.entries(EMOJI).reverse().map(([name, ch]) => [ch, name]));
const LITERAL_EMOJI = new RegExp([...EMOJI_NAME.keys()].sort((a, b) => b.length - a.length).map((ch) => ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu');
/** Emoji typed as characters (the bot's "🚀" in headers) get the same fallback as :shortcodes: when there is no emoji font. */
const literalEmoji = (text, wrap = (html) => html) => (colorEmoji ? text : text.replace(LITERAL_EMOJI, (ch) => wrap(emojiHtml(EMOJI_NAME.get(ch)))));

function emojiHtml(name) {
  const title = esc(`:${name}:`);
  const mono = MONO_EMOJI[name];
  if (!colorEmoji && mono) return `<span class="emoji mono ${mono[1]}" title="${title}" aria-label="${title}">${mono[0]}</span>`;
  return EMOJI[name] ? `<span class="emoji" title="${title}">${EMOJI[name]}</span>` : title;
}

function user(id) {
  return ui.data?.users.find((u) => u.id === id);
}
function userName(id) {
  if (id === ui.data?.botUserId) return 'Shipmate';
  const u = user(id);
  return u ? u.real_name || u.name : id;
}
function channel(id) {
  return ui.data?.channels.find((c) => c.id === id);
}
function demoUsers() {
  return (ui.data?.users ?? []).filter((u) => u.demo);
}

let toastTimer;
function toast(message) {
  const el = $('toast');
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

async function post(path, body) {
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) toast(`The playground refused that: ${json.error ?? res.status}`);
    else if (json.ok === false && !json.errors && json.error !== 'unknown_command') toast(`Shipmate did not answer: ${json.error}`);
    return json;
  } catch (err) {
    toast(`The playground is not reachable: ${err.message}`);
    return { ok: false, error: String(err) };
  }
}

const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function fmtTime(ts) {
  const d = new Date(Number(ts) * 1000);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// ---------------------------------------------------------------- mrkdwn

/** Slack's date-token formats ({date_short_pretty}, {time}, {ago}…) in this browser's locale and time zone. */
function slackDateText(at, format) {
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const dayDiff = Math.round((day(at) - day(new Date())) / 86_400_000);
  const pretty = (fallback) => ({ 0: 'Today', [-1]: 'Yesterday', 1: 'Tomorrow' })[dayDiff] ?? fallback;
  const f = (opts) => at.toLocaleString([], opts);
  const date = f({ year: 'numeric', month: 'long', day: 'numeric' });
  const dateShort = f({ year: 'numeric', month: 'short', day: 'numeric' });
  const dateLong = f({ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
  const secs = Math.round((Date.now() - at.getTime()) / 1000);
  const ago = Math.abs(secs) < 60 ? 'just now' : new Intl.RelativeTimeFormat([], { numeric: 'auto' }).format(
    ...(Math.abs(secs) < 3600 ? [-Math.round(secs / 60), 'minute'] : Math.abs(secs) < 86_400 ? [-Math.round(secs / 3600), 'hour'] : [-Math.round(secs / 86_400), 'day']));
  const tokens = {
    date_num: `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}`,
    date, date_short: dateShort, date_long: dateLong,
    date_pretty: pretty(date), date_short_pretty: pretty(dateShort), date_long_pretty: pretty(dateLong),
    time: f({ hour: '2-digit', minute: '2-digit' }), time_secs: f({ hour: '2-digit', minute: '2-digit', second: '2-digit' }), ago,
  };
  return format.replace(/\{(\w+)\}/g, (all, name) => tokens[name] ?? all);
}

function angle(inner) {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : '';
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention${id === ui.user ? ' me' : ''}" data-user="${esc(id)}">@${esc(label ? decode(label) : userName(id))}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `<span class="mention channel" data-channel="${esc(id)}">#${esc(label ? decode(label) : channel(id)?.name ?? id)}</span>`;
  }
  if (target.startsWith('!')) {
    const [kind, arg, format] = target.slice(1).split('^');
    if (kind === 'here' || kind === 'channel' || kind === 'everyone') return `<span class="mention">@${kind}</span>`;
    if (kind === 'subteam') return `<span class="mention">@${esc(label ? decode(label).replace(/^@/, '') : arg)}</span>`;
    if (kind === 'date') {
      // Slack shows a date token in the reader's own time zone; the text after | is only its fallback.
      const at = new Date(Number(arg) * 1000);
      const shown = Number.isFinite(at.getTime()) && format ? slackDateText(at, format) : decode(label || at.toISOString());
      return `<time datetime="${esc(at.toISOString())}" title="${esc(at.toString())}">${esc(shown)}</time>`;
    }
    return esc(decode(label || kind));
  }
  const url = decode(target);
  const text = decode(label || target);
  // Links to a message in this workspace (chat.getPermalink) open it here instead of on slack.com.
  const perma = /^https:\/\/[a-z0-9-]+\.slack\.com\/archives\/([CGD][A-Z0-9]+)\/p(\d{10})(\d{6})/.exec(url);
  if (perma) return `<a href="#" class="permalink" data-goto-channel="${esc(perma[1])}" data-goto-ts="${perma[2]}.${perma[3]}">${esc(text)}</a>`;
  if (/^(https?:|mailto:)/i.test(url)) return `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${esc(text)}</a>`;
  return esc(text);
}

/** Slack mrkdwn → HTML: everything is escaped, then only known markup becomes tags. */
function mrkdwn(src) {
  const held = [];
  const hold = (html) => `\uE000${held.push(html) - 1}\uE001`;
  let s = String(src ?? '');
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre class="code">${esc(decode(code.replace(/^\n/, '')))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${esc(decode(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(angle(inner)));
  s = s.replace(/:([a-z0-9_+'-]+):/g, (_, name) => hold(emojiHtml(name)));
  s = literalEmoji(s, hold);
  s = esc(decode(s));
  s = s.replace(/(^|\n)&gt; ?([^\n]*)/g, '$1<span class="quote">$2</span>');
  s = s.replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])/g, '$1<b>$2</b>');
  s = s.replace(/(^|[^\w_])_(?!\s)([^_\n]+?)_(?![\w_])/g, '$1<i>$2</i>');
  s = s.replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?![\w~])/g, '$1<s>$2</s>');
  // Block elements already break lines: drop the newline right after a code block.
  s = s.replace(/(\uE000\d+\uE001)\n/g, (all, token) => (held[Number(token.slice(1, -1))].startsWith('<pre') ? token : all));
  return s.replace(/\uE000(\d+)\uE001/g, (_, i) => held[Number(i)]);
}

/** plain_text (with :emoji: when emoji is not false) or mrkdwn text object → HTML. */
function textHtml(t) {
  if (!t) return '';
  if (typeof t === 'string') return esc(t);
  if (t.type === 'mrkdwn') return mrkdwn(t.text);
  if (t.emoji === false) return esc(t.text);
  const held = [];
  const hold = (html) => `\uE000${held.push(html) - 1}\uE001`;
  const text = literalEmoji(String(t.text ?? ''), hold).replace(/:([a-z0-9_+'-]+):/g, (_, name) => hold(emojiHtml(name)));
  return esc(text).replace(/\uE000(\d+)\uE001/g, (_, i) => held[Number(i)]);
}
const textNode = (t, cls = 'text') => h('div', { class: cls, html: textHtml(t) });
/** The text of a text object, for labels and aria names. */
const plainOf = (t) => (t ? (typeof t === 'string' ? t : decode(t.text).replace(/[*_~`]/g, '')) : '');

function richText(block) {
  const inline = (e) => {
    if (e.type === 'text') {
      let html = esc(e.text);
      if (e.style?.code) html = `<code>${html}</code>`;
      if (e.style?.bold) html = `<b>${html}</b>`;
      if (e.style?.italic) html = `<i>${html}</i>`;
      if (e.style?.strike) html = `<s>${html}</s>`;
      return html;
    }
    if (e.type === 'link') return /^(https?:|mailto:)/i.test(e.url) ? `<a href="${esc(e.url)}" target="_blank" rel="noopener noreferrer">${esc(e.text || e.url)}</a>` : esc(e.text || e.url);
    if (e.type === 'user') return angle(`@${e.user_id}`);
    if (e.type === 'channel') return angle(`#${e.channel_id}`);
    if (e.type === 'usergroup') return angle(`!subteam^${e.usergroup_id}`);
    if (e.type === 'broadcast') return angle(`!${e.range}`);
    if (e.type === 'emoji') return emojiHtml(e.name);
    return '';
  };
  const part = (el) => {
    const inner = (el.elements ?? []).map((x) => (x.type?.startsWith('rich_text_') ? part(x) : inline(x))).join('');
    if (el.type === 'rich_text_preformatted') return `<pre class="code">${inner}</pre>`;
    if (el.type === 'rich_text_quote') return `<span class="quote">${inner}</span>`;
    if (el.type === 'rich_text_list') {
      const tag = el.style === 'ordered' ? 'ol' : 'ul';
      return `<${tag}>${(el.elements ?? []).map((x) => `<li>${part(x)}</li>`).join('')}</${tag}>`;
    }
    return inner;
  };
  return h('div', { class: 'text b-rich', html: (block.elements ?? []).map(part).join('') });
}

// ---------------------------------------------------------------- Block Kit

/** Values of the interactive elements in `root`, as Slack's state.values: block_id → action_id → state. */
function collectValues(root) {
  const values = {};
  for (const el of root?.querySelectorAll('[data-action-id]') ?? []) {
    if (typeof el.readState !== 'function') continue;
    (values[el.dataset.blockId] ??= {})[el.dataset.actionId] = el.readState();
  }
  return values;
}

function applyValues(root, values) {
  for (const el of root.querySelectorAll('[data-action-id]')) {
    const v = values[el.dataset.blockId]?.[el.dataset.actionId];
    if (v && typeof el.writeState === 'function') el.writeState(v);
  }
}

async function sendAction(ctx, blockId, el, extra = {}) {
  const body = { user: ui.user, action_id: el.action_id, block_id: blockId, type: el.type, ...extra };
  if (el.type === 'button') Object.assign(body, { value: el.value, text: el.text });
  if (ctx.kind === 'message') Object.assign(body, { channel: ctx.channel, message_ts: ctx.ts });
  else Object.assign(body, { view_id: ctx.viewId, values: collectValues(ctx.root()) });
  return post('/api/action', body);
}

function confirmDialog(c) {
  return new Promise((resolve) => {
    const title = plainOf(c.title) || 'Are you sure?';
    const done = (ok) => {
      overlay.remove();
      document.removeEventListener('keydown', onKey, true);
      resolve(ok);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        done(false);
      }
    };
    const yes = h('button', { type: 'button', class: `btn ${c.style === 'danger' ? 'danger solid' : 'primary'}`, onclick: () => done(true) }, plainOf(c.confirm) || 'Yes');
    const overlay = h('div', { class: 'overlay confirm' },
      h('div', { class: 'modal', role: 'alertdialog', 'aria-modal': 'true', 'aria-label': title, 'data-testid': 'confirm-dialog' },
        h('header', {}, h('h2', {}, title)),
        h('div', { class: 'modal-body' }, textNode(c.text)),
        h('footer', {}, h('button', { type: 'button', class: 'btn', onclick: () => done(false) }, plainOf(c.deny) || 'Cancel'), yes)));
    document.addEventListener('keydown', onKey, true);
    document.body.append(overlay);
    yes.focus();
  });
}

let idSeq = 0;
const optionLabel = (o) => plainOf(o.text);
const sameOption = (a, b) => a && b && a.value === b.value;

/**
 * One Block Kit element. In input blocks it only holds state (read on submit); elsewhere a change is sent to the bot
 * at once, like Slack does.
 */
function element(el, blockId, ctx, { inInput = false } = {}) {
  const dispatch = !inInput || el.dispatch_action;
  const tag = (node, readState, writeState) => {
    if (el.action_id) {
      node.dataset.actionId = el.action_id;
      node.dataset.blockId = blockId;
      node.dataset.type = el.type;
    }
    if (readState) node.readState = readState;
    if (writeState) node.writeState = writeState;
    return node;
  };
  switch (el.type) {
    case 'button': {
      const label = plainOf(el.text);
      const btn = h('button', { type: 'button', class: `btn ${el.style ?? ''}`, 'aria-label': el.accessibility_label || undefined }, h('span', { html: textHtml(el.text) }));
      btn.title = label;
      btn.addEventListener('click', async () => {
        if (el.confirm && !(await confirmDialog(el.confirm))) return;
        if (el.url) window.open(el.url, '_blank', 'noopener');
        btn.disabled = true;
        try {
          await sendAction(ctx, blockId, el);
        } finally {
          btn.disabled = false;
        }
      });
      return tag(btn);
    }
    case 'static_select':
    case 'external_select':
    case 'users_select':
    case 'conversations_select':
    case 'channels_select': {
      const options = el.type === 'users_select'
        ? demoUsers().map((u) => ({ text: { type: 'plain_text', text: u.real_name }, value: u.id }))
        : el.type === 'static_select' || el.type === 'external_select'
          ? el.options ?? (el.option_groups ?? []).flatMap((g) => g.options)
          : (ui.data?.channels ?? []).filter((c) => !c.is_im).map((c) => ({ text: { type: 'plain_text', text: `#${c.name}` }, value: c.id }));
      const initial = el.initial_option?.value ?? el.initial_user ?? el.initial_conversation ?? el.initial_channel;
      const select = h('select', { class: 'el', 'aria-label': plainOf(el.placeholder) || 'Choose' },
        h('option', { value: '' }, plainOf(el.placeholder) || 'Choose…'),
        options.map((o) => h('option', { value: o.value, selected: o.value === initial }, optionLabel(o))));
      const selected = () => options.find((o) => o.value === select.value) ?? null;
      const read = () => {
        if (el.type === 'users_select') return { type: el.type, selected_user: select.value || null };
        if (el.type === 'conversations_select') return { type: el.type, selected_conversation: select.value || null };
        if (el.type === 'channels_select') return { type: el.type, selected_channel: select.value || null };
        return { type: el.type, selected_option: selected() };
      };
      const write = (v) => (select.value = v.selected_option?.value ?? v.selected_user ?? v.selected_conversation ?? v.selected_channel ?? '');
      if (dispatch) select.addEventListener('change', () => sendAction(ctx, blockId, el, read()));
      return tag(select, read, write);
    }
    case 'multi_static_select': {
      const options = el.options ?? (el.option_groups ?? []).flatMap((g) => g.options);
      const initial = (el.initial_options ?? []).map((o) => o.value);
      const select = h('select', { class: 'el', multiple: true, 'aria-label': plainOf(el.placeholder) || 'Choose' },
        options.map((o) => h('option', { value: o.value, selected: initial.includes(o.value) }, optionLabel(o))));
      const read = () => ({ type: el.type, selected_options: options.filter((o) => [...select.selectedOptions].some((s) => s.value === o.value)) });
      const write = (v) => { for (const opt of select.options) opt.selected = (v.selected_options ?? []).some((o) => o.value === opt.value); };
      if (dispatch) select.addEventListener('change', () => sendAction(ctx, blockId, el, read()));
      return tag(select, read, write);
    }
    case 'overflow': {
      const select = h('select', { class: 'el overflow', 'aria-label': 'More actions', title: 'More actions' },
        h('option', { value: '' }, '⋯'), el.options.map((o) => h('option', { value: o.value }, optionLabel(o))));
      select.addEventListener('change', async () => {
        const option = el.options.find((o) => o.value === select.value);
        select.value = '';
        if (!option) return;
        if (el.confirm && !(await confirmDialog(el.confirm))) return;
        await sendAction(ctx, blockId, el, { selected_option: option });
      });
      return tag(select);
    }
    case 'checkboxes':
    case 'radio_buttons': {
      const radio = el.type === 'radio_buttons';
      const name = `g${++idSeq}`;
      const initial = radio ? [el.initial_option].filter(Boolean) : el.initial_options ?? [];
      const inputs = [];
      const box = h('fieldset', { class: 'checks' }, el.options.map((o) => {
        const input = h('input', { type: radio ? 'radio' : 'checkbox', name, value: o.value, checked: initial.some((i) => sameOption(i, o)) });
        inputs.push(input);
        return h('label', {}, input, h('span', {}, h('span', { html: textHtml(o.text) }), o.description ? h('span', { class: 'desc', html: textHtml(o.description) }) : null));
      }));
      const chosen = () => el.options.filter((o, i) => inputs[i].checked);
      const read = () => (radio ? { type: el.type, selected_option: chosen()[0] ?? null } : { type: el.type, selected_options: chosen() });
      const write = (v) => {
        const picked = radio ? [v.selected_option].filter(Boolean) : v.selected_options ?? [];
        el.options.forEach((o, i) => (inputs[i].checked = picked.some((p) => sameOption(p, o))));
      };
      if (dispatch) {
        // Slack sends the element's whole selection after the click.
        box.addEventListener('change', async () => {
          if (el.confirm && !(await confirmDialog(el.confirm))) return;
          await sendAction(ctx, blockId, el, read());
        });
      }
      return tag(box, read, write);
    }
    case 'datepicker':
    case 'timepicker': {
      const date = el.type === 'datepicker';
      const input = h('input', { class: 'el', type: date ? 'date' : 'time', value: (date ? el.initial_date : el.initial_time) ?? '', 'aria-label': plainOf(el.placeholder) || (date ? 'Date' : 'Time') });
      const read = () => (date ? { type: el.type, selected_date: input.value || null } : { type: el.type, selected_time: input.value || null });
      const write = (v) => (input.value = (date ? v.selected_date : v.selected_time) ?? '');
      if (dispatch) input.addEventListener('change', () => sendAction(ctx, blockId, el, read()));
      return tag(input, read, write);
    }
    case 'plain_text_input':
    case 'number_input':
    case 'email_text_input':
    case 'url_text_input': {
      const multiline = el.type === 'plain_text_input' && el.multiline;
      const type = { number_input: 'number', email_text_input: 'email', url_text_input: 'url' }[el.type] ?? 'text';
      const attrs = {
        class: 'el', id: `in${++idSeq}`, placeholder: plainOf(el.placeholder) || undefined, maxlength: el.max_length, minlength: el.min_length,
        ...(multiline ? {} : { type, value: el.initial_value ?? '' }),
      };
      const input = multiline ? h('textarea', attrs, el.initial_value ?? '') : h('input', attrs);
      const read = () => ({ type: el.type, value: input.value === '' ? null : input.value });
      const write = (v) => (input.value = v.value ?? '');
      if (dispatch && !inInput) input.addEventListener('change', () => sendAction(ctx, blockId, el, read()));
      return tag(input, read, write);
    }
    case 'image':
      return h('img', { src: imageSrc(el), alt: el.alt_text ?? '' });
    default:
      return h('span', { class: 'b-unknown' }, `[${el.type} is not shown in the playground]`);
  }
}

/** An image's source: its public URL, or an uploaded file (slack_file by id, served by the playground, or by url). */
function imageSrc(x) {
  if (x.image_url) return x.image_url;
  if (x.slack_file?.id) return `/files/${encodeURIComponent(x.slack_file.id)}`;
  return x.slack_file?.url ?? '';
}

function block(b, index, ctx) {
  const blockId = b.block_id ?? `blk${index}`;
  switch (b.type) {
    case 'header':
      return h('div', { class: 'b-header', role: 'heading', 'aria-level': '3', html: textHtml(b.text) });
    case 'section': {
      const main = h('div', { class: 'b-section-main' },
        b.text ? textNode(b.text) : null,
        b.fields?.length ? h('div', { class: 'b-fields' }, b.fields.map((f) => textNode(f))) : null);
      return h('div', { class: 'b-section', 'data-block-id': blockId }, main,
        b.accessory ? h('div', { class: 'b-accessory' }, element(b.accessory, blockId, ctx)) : null);
    }
    case 'context':
      return h('div', { class: 'b-context' }, (b.elements ?? []).map((e) => (e.type === 'image' ? h('img', { src: imageSrc(e), alt: e.alt_text ?? '' }) : h('span', { class: 'text', html: textHtml(e) }))));
    case 'divider':
      return h('hr', { class: 'b-divider' });
    case 'image':
      return h('div', { class: 'b-image' }, h('figure', {}, h('img', { src: imageSrc(b), alt: b.alt_text ?? '' }), b.title ? h('figcaption', { html: textHtml(b.title) }) : null));
    case 'actions':
      return h('div', { class: 'b-actions', 'data-block-id': blockId }, (b.elements ?? []).map((e) => element(e, blockId, ctx)));
    case 'input': {
      const el = element(b.element, blockId, ctx, { inInput: true });
      const labelFor = el.id || undefined;
      return h('div', { class: 'b-input', 'data-block-id': blockId, 'data-optional': b.optional ? 'true' : 'false', 'data-testid': 'input-block' },
        h(labelFor ? 'label' : 'div', { class: 'label', for: labelFor }, plainOf(b.label), b.optional ? h('span', { class: 'optional' }, ' (optional)') : null),
        el,
        b.hint ? h('div', { class: 'hint', html: textHtml(b.hint) }) : null,
        h('div', { class: 'error', role: 'alert', 'data-testid': 'input-error' }));
    }
    case 'rich_text':
      return richText(b);
    default:
      return h('div', { class: 'b-unknown' }, `[${b.type} block is not shown in the playground]`);
  }
}

function blocksNode(blocks, ctx) {
  return h('div', { class: 'blocks' }, blocks.map((b, i) => block(b, i, ctx)));
}

function attachmentsNode(attachments, ctx) {
  return attachments.map((a) => h('div', { class: 'attachment', style: `border-left: 4px solid ${/^#?[0-9a-f]{3,6}$/i.test(a.color ?? '') ? (a.color.startsWith('#') ? a.color : `#${a.color}`) : '#ddd'}; padding-left: 10px; margin-top: 4px;` },
    a.pretext ? textNode({ type: 'mrkdwn', text: a.pretext }) : null,
    a.title ? h('div', { class: 'author' }, a.title) : null,
    a.text ? textNode({ type: 'mrkdwn', text: a.text }) : null,
    a.blocks ? blocksNode(a.blocks, ctx) : null,
    !a.text && !a.blocks && a.fallback ? textNode({ type: 'plain_text', text: a.fallback }) : null));
}

// ---------------------------------------------------------------- messages and threads

const visible = (m) => !m.ephemeral || m.ephemeral.user === ui.user;
const replies = (m) => ui.data.messages.filter((r) => r.channel === m.channel && r.thread_ts === m.ts && r.ts !== m.ts && visible(r) && !!r.local === !!m.local);
const keyOf = (m) => `${m.local ? 'l' : 's'}:${m.channel}:${m.ts}`;

function messageNode(m, { inThread = false } = {}) {
  const isBot = !!m.bot_id;
  const slackbot = m.from === 'slackbot';
  const author = slackbot ? 'Slackbot' : isBot ? 'Shipmate' : userName(m.user);
  const ctx = { kind: 'message', channel: m.channel, ts: m.ts };
  const ack = m.ephemeral ? ui.data.acks[m.ts] : undefined;
  const threadReplies = inThread ? [] : replies(m).filter((r) => !r.ephemeral);
  const n = threadReplies.length;
  const date = new Date(Number(m.ts) * 1000);
  return h('article', {
    class: `msg${m.ephemeral ? ' ephemeral' : ''}`, 'data-testid': 'message', 'data-ts': m.ts, 'data-channel': m.channel,
    'data-ephemeral': m.ephemeral ? 'true' : undefined, 'aria-label': `Message from ${author}`,
  },
  h('div', { class: `avatar${isBot ? ' bot' : ''}${slackbot ? ' slackbot' : ''}`, 'aria-hidden': 'true' }, author.charAt(0).toUpperCase()),
  h('div', { class: 'msg-body' },
    h('div', { class: 'meta' },
      h('span', { class: 'author' }, author),
      isBot ? h('span', { class: 'badge' }, 'APP') : null,
      h('time', { datetime: date.toISOString(), title: date.toString() }, fmtTime(m.ts)),
      m.edited ? h('span', { class: 'edited', 'data-testid': 'edited' }, '(edited)') : null),
    m.ephemeral ? h('div', { class: 'eph-note', 'data-testid': 'ephemeral-note' }, 'Only visible to you', ack ? h('span', {}, ' · reply to ', h('code', {}, ack)) : null) : null,
    m.blocks?.length ? blocksNode(m.blocks, ctx) : textNode({ type: 'mrkdwn', text: m.text }),
    m.attachments?.length ? attachmentsNode(m.attachments, ctx) : null,
    n > 0 ? h('button', { type: 'button', class: 'thread-link', 'data-testid': 'thread-link', onclick: () => openThread(m) }, `${n} ${n === 1 ? 'reply' : 'replies'}`) : null));
}

/** Re-renders a list of messages, reusing the nodes of messages that did not change (so clicks never hit a detached node). */
function renderList(container, items, build, emptyText) {
  const cache = container.cache ?? new Map();
  const next = new Map();
  if (items.length === 0) {
    container.cache = next;
    container.replaceChildren(h('div', { class: 'empty' }, emptyText));
    return;
  }
  container.querySelector(':scope > .empty')?.remove();
  const nodes = items.map((m) => {
    const key = keyOf(m);
    const sig = JSON.stringify([m.ts, m.text, m.blocks, m.attachments, m.edited, replies(m).length, ui.user, ui.data.acks[m.ts], m.from]);
    const entry = cache.get(key);
    if (entry && entry.sig === sig) {
      next.set(key, entry);
      return entry.node;
    }
    entry?.node.remove();
    const node = build(m);
    next.set(key, { sig, node });
    return node;
  });
  for (const [key, entry] of cache) if (!next.has(key)) entry.node.remove();
  nodes.forEach((node, i) => {
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] ?? null);
  });
  while (container.children.length > nodes.length) container.lastElementChild.remove();
  container.cache = next;
}

function channelMessages(id) {
  return ui.data.messages.filter((m) => m.channel === id && visible(m) && (!m.thread_ts || m.reply_broadcast));
}

/** Opens the channel of a message and brings the message (or the thread it is in) into view. */
function showMessage(channelId, ts) {
  const m = ui.data.messages.find((x) => x.channel === channelId && x.ts === ts && !x.local);
  if (!m || !channel(channelId)) return toast('That message is not in this playground.');
  go(channelId);
  const top = m.thread_ts && !m.reply_broadcast ? ui.data.messages.find((x) => x.channel === channelId && x.ts === m.thread_ts && !x.local) : m;
  if (top && top !== m) openThread(top);
  const node = $('messages').querySelector(`[data-testid="message"][data-ts="${CSS.escape(top?.ts ?? ts)}"]`);
  if (node) {
    node.scrollIntoView({ block: 'center' });
    node.classList.add('flash');
    setTimeout(() => node.classList.remove('flash'), 1600);
  }
}

function openThread(m) {
  ui.thread = { channel: m.channel, ts: m.ts, local: !!m.local };
  render();
  $('thread-messages').scrollTop = 0;
}

function renderThread() {
  const pane = $('thread');
  const t = ui.thread;
  const parent = t && ui.data.messages.find((m) => m.channel === t.channel && m.ts === t.ts && !!m.local === t.local);
  if (!parent || ui.place === 'home' || parent.channel !== ui.place) {
    pane.hidden = true;
    $('thread-messages').cache = new Map();
    $('thread-messages').replaceChildren();
    return;
  }
  pane.hidden = false;
  pane.dataset.ts = parent.ts;
  $('thread-channel').textContent = channelLabel(parent.channel);
  const list = $('thread-messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  renderList(list, [parent, ...replies(parent)], (m) => messageNode(m, { inThread: true }), '');
  if (atBottom && list.scrollTop > 0) list.scrollTop = list.scrollHeight;
}

// ---------------------------------------------------------------- modals and App Home

function currentModal() {
  const mine = ui.data.views.filter((v) => v.kind === 'modal' && v.user === ui.user && !v.closed);
  return mine[mine.length - 1];
}

function setErrors(root, errors) {
  for (const b of root.querySelectorAll('.b-input')) {
    const message = errors[b.dataset.blockId] ?? '';
    b.classList.toggle('invalid', !!message);
    const slot = b.querySelector('.error');
    if (slot) slot.textContent = message;
  }
}

function missingRequired(root) {
  const values = collectValues(root);
  const errors = {};
  for (const b of root.querySelectorAll('.b-input[data-optional="false"]')) {
    const state = Object.values(values[b.dataset.blockId] ?? {})[0];
    const filled = state && Object.entries(state).some(([k, v]) => k !== 'type' && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0));
    if (!filled) errors[b.dataset.blockId] = 'Please fill out this required field.';
  }
  // Slack checks min_length in the client too, before anything reaches the app.
  for (const input of root.querySelectorAll('.b-input [minlength]')) {
    const min = Number(input.getAttribute('minlength'));
    const blockId = input.closest('.b-input').dataset.blockId;
    if (input.value.length > 0 && input.value.length < min && !errors[blockId]) {
      errors[blockId] = `Please enter at least ${min} characters (you have ${input.value.length}).`;
    }
  }
  return errors;
}

function renderModal() {
  const v = currentModal();
  const key = v ? `${v.id}:${v.hash}:${ui.user}` : null;
  if (key === ui.modalKey) return;
  const root = $('modal-root');
  const previous = root.querySelector('[data-testid="modal"]');
  const carried = v && previous?.dataset.viewId === v.id ? collectValues(previous) : null;
  ui.modalKey = key;
  root.replaceChildren();
  if (!v) return;
  const view = v.view ?? {};
  const title = plainOf(view.title) || 'Shipmate';
  let dialog;
  const ctx = { kind: 'modal', viewId: v.id, root: () => dialog };
  const close = async () => {
    await post('/api/close', { user: ui.user, view_id: v.id, values: collectValues(dialog) });
  };
  const submit = async (e) => {
    e?.preventDefault();
    const missing = missingRequired(dialog);
    setErrors(dialog, missing);
    if (Object.keys(missing).length > 0) return;
    const button = dialog.querySelector('[data-testid="modal-submit"]');
    button.disabled = true;
    const res = await post('/api/submit', { user: ui.user, view_id: v.id, values: collectValues(dialog) });
    button.disabled = false;
    if (res.errors) setErrors(dialog, res.errors);
  };
  dialog = h('form', { novalidate: true, class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': title, 'data-testid': 'modal', 'data-view-id': v.id, onsubmit: submit },
    h('header', {}, h('h2', { html: textHtml(view.title) }), h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', onclick: close }, '✕')),
    h('div', { class: 'modal-body' }, (view.blocks ?? []).map((b, i) => block(b, i, ctx))),
    h('footer', {},
      h('button', { type: 'button', class: 'btn', onclick: close }, plainOf(view.close) || 'Cancel'),
      view.submit ? h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'modal-submit' }, plainOf(view.submit)) : null));
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });
  root.append(h('div', { class: 'overlay' }, dialog));
  if (carried) applyValues(dialog, carried);
  dialog.querySelector('input, textarea, select')?.focus();
}

function renderHome() {
  const section = $('home');
  const v = ui.data.views.find((x) => x.kind === 'home' && x.user === ui.user);
  const key = v ? `${v.id}:${v.hash}:${ui.user}` : `none:${ui.user}`;
  if (key === ui.homeKey && section.childElementCount > 0) return;
  ui.homeKey = key;
  if (!v) {
    // Right after app_home_opened the bot is still building the view; say so for a moment.
    const opening = ui.homeRequested && Date.now() - ui.homeRequested < 3000;
    if (opening) setTimeout(() => { ui.homeKey = null; render(); }, 3100 - (Date.now() - ui.homeRequested));
    ui.homeKey = opening ? null : key;
    section.replaceChildren(h('div', { class: 'empty', 'data-testid': opening ? 'home-opening' : 'home-empty' },
      opening ? 'Opening Shipmate’s Home tab…' : 'Shipmate has not published a Home tab for you yet.'));
    return;
  }
  let content;
  const ctx = { kind: 'home', viewId: v.id, root: () => content };
  content = h('div', { class: 'blocks', 'data-view-id': v.id }, (v.view?.blocks ?? []).map((b, i) => block(b, i, ctx)));
  section.replaceChildren(content);
}

// ---------------------------------------------------------------- sidebar, header, composer

function channelLabel(id) {
  const c = channel(id);
  if (!c) return id;
  if (c.is_im) return 'Shipmate — Messages';
  if (c.id.startsWith('D')) return (c.members ?? []).map(userName).join(', ');
  return `#${c.name}`;
}

function myDms() {
  return ui.data.channels.filter((c) => (c.is_im ? c.user === ui.user : c.id.startsWith('D') && (c.members ?? []).includes(ui.user)));
}

/** Messages that arrived since the page loaded (or since this user last looked at the channel), for the sidebar counts. */
function unread(id) {
  const key = `${ui.user}:${id}`;
  const msgs = channelMessages(id);
  ui.loadedAt ??= ui.data.messages[ui.data.messages.length - 1]?.ts ?? '0';
  if (id === ui.place) ui.seen[key] = msgs[msgs.length - 1]?.ts ?? '0';
  const since = Number(ui.seen[key] ?? ui.loadedAt);
  return msgs.filter((m) => Number(m.ts) > since).length;
}

function navButton(label, place, testid) {
  const count = place === 'home' ? 0 : unread(place);
  return h('li', {}, h('button', {
    type: 'button', 'data-testid': testid, 'data-place': place, 'aria-current': ui.place === place ? 'page' : undefined, class: count ? 'unread' : undefined,
    onclick: () => go(place),
  }, h('span', {}, label), count ? h('span', { class: 'count', 'aria-label': `${count} unread` }, String(count)) : null));
}

function renderSidebar() {
  const users = demoUsers();
  const switcher = $('user-switcher');
  const options = users.map((u) => `${u.id}|${u.real_name}|${u.roles.join(', ')}`).join(';');
  if (switcher.dataset.options !== options) {
    switcher.dataset.options = options;
    switcher.replaceChildren(...users.map((u) => h('option', { value: u.id }, `${u.real_name}${u.roles.length ? ` — ${u.roles.join(', ')}` : ''}`)));
  }
  switcher.value = ui.user;
  const me = user(ui.user);
  $('your-roles').textContent = me ? (me.roles.length ? `Roles: ${me.roles.join(', ')}` : 'No roles in the config') : '';
  const channels = ui.data.channels.filter((c) => !c.is_im && !c.id.startsWith('D'));
  $('channel-list').replaceChildren(...channels.map((c) => navButton(`# ${c.name}`, c.id, `channel-${c.name}`)));
  $('app-list').replaceChildren(
    navButton('Shipmate — Home', 'home', 'nav-home'),
    ...myDms().map((c) => navButton(c.is_im ? 'Shipmate — Messages' : channelLabel(c.id), c.id, c.is_im ? 'nav-messages' : `dm-${c.id}`)));
  $('people-list').replaceChildren(...users.map((u) => h('li', {}, h('button', {
    type: 'button', 'aria-pressed': u.id === ui.user ? 'true' : 'false', 'data-testid': `person-${u.id}`, onclick: () => switchUser(u.id),
  }, u.real_name, h('span', { class: 'roles' }, u.roles.join(', ') || '—')))));
}

function renderHeader() {
  if (ui.place === 'home') {
    $('title').textContent = 'Shipmate';
    $('subtitle').textContent = `Home tab, as ${userName(ui.user)} sees it`;
  } else {
    $('title').textContent = channelLabel(ui.place);
    const c = channel(ui.place);
    $('subtitle').textContent = c?.is_im ? 'Direct messages from Shipmate' : c ? count(channelMessages(ui.place).filter((m) => !m.ephemeral).length, 'message') : '';
  }
  const composer = $('composer');
  const where = ui.place === 'home' ? '' : channelLabel(ui.place);
  composer.placeholder = `Message ${where} — or a command, e.g. /deploy staging v1.0.0`;
  const cmds = (ui.data.commands ?? []).map((c) => `<code>${esc(c)}</code>`).join(' ');
  $('composer-hint').innerHTML = `Commands: ${cmds} · Enter sends, Shift+Enter adds a line · you are <b>${esc(userName(ui.user))}</b>`;
}

function render() {
  if (!ui.data) return;
  const users = demoUsers();
  if (!users.some((u) => u.id === ui.user)) ui.user = users[0]?.id ?? null;
  const places = ['home', ...ui.data.channels.filter((c) => !c.id.startsWith('D')).map((c) => c.id), ...myDms().map((c) => c.id)];
  if (!places.includes(ui.place)) ui.place = places[1] ?? 'home';
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const home = ui.place === 'home';
  $('messages').hidden = home;
  $('home').hidden = !home;
  $('composer-form').hidden = home;
  $('composer-hint').hidden = home;
  if (home) renderHome();
  else {
    const placeChanged = list.dataset.place !== ui.place;
    if (placeChanged) {
      list.cache = new Map();
      list.replaceChildren();
      list.dataset.place = ui.place;
    }
    renderList(list, channelMessages(ui.place), (m) => messageNode(m), `Nothing in ${channelLabel(ui.place)} yet. Type /deploy dev to start a deploy.`);
    if (atBottom || placeChanged) list.scrollTop = list.scrollHeight;
  }
  renderSidebar();
  renderHeader();
  renderThread();
  renderModal();
}

function remember() {
  localStorage.setItem('shipmate.user', ui.user ?? '');
  localStorage.setItem('shipmate.place', ui.place ?? '');
}

const narrow = () => window.innerWidth < 760;

/** The sidebar folds away with ☰; on a narrow window it is a drawer over the page that closes once you pick something. */
function setSidebar(open) {
  document.body.classList.toggle('sidebar-collapsed', !open);
  $('sidebar-toggle').setAttribute('aria-expanded', String(open));
}

function go(place) {
  if (narrow()) setSidebar(false);
  ui.place = place;
  if (ui.thread && ui.thread.channel !== place) ui.thread = null;
  remember();
  if (place === 'home') openHome();
  render();
}

function switchUser(id) {
  if (narrow()) setSidebar(false);
  ui.user = id;
  ui.thread = ui.thread && channel(ui.thread.channel) ? ui.thread : null;
  remember();
  if (ui.place === 'home') openHome();
  render();
}

/** Opening the Home tab sends app_home_opened to the bot, like Slack does each time. */
function openHome() {
  ui.homeKey = null;
  ui.homeRequested = Date.now();
  void post('/api/home', { user: ui.user });
}

async function send(text) {
  const trimmed = text.trim();
  if (!trimmed || ui.place === 'home') return;
  if (trimmed.startsWith('/')) await post('/api/command', { user: ui.user, channel: ui.place, text: trimmed });
  else await post('/api/message', { user: ui.user, channel: ui.place, text: trimmed });
}

// ---------------------------------------------------------------- live updates

let inflight = null;
let again = false;
async function refresh() {
  if (inflight) {
    again = true;
    return inflight;
  }
  inflight = (async () => {
    do {
      again = false;
      await new Promise((ok) => setTimeout(ok, 15)); // let a burst of changes land in one fetch
      const res = await fetch('/api/state', { cache: 'no-store' });
      if (!res.ok) throw new Error(`state: HTTP ${res.status}`);
      ui.data = await res.json();
      render();
      void refreshFlags();
    } while (again);
  })().catch((err) => toast(`Could not load the playground state: ${err.message}`)).finally(() => (inflight = null));
  return inflight;
}

/** The Flags list in the sidebar: each flag and its state per environment (/flag changes show up live). */
let flagsInflight = false;
async function refreshFlags() {
  // Never holds up the messages: one fetch at a time, a failure leaves the list as it was.
  if (flagsInflight) return;
  flagsInflight = true;
  const res = await fetch('/api/flags', { cache: 'no-store' }).catch(() => null).finally(() => (flagsInflight = false));
  if (!res?.ok) return;
  const { flags } = await res.json();
  $('flag-list').replaceChildren(...(flags.length ? flags.map((f) => h('li', { 'data-testid': `flag-${f.key}` },
    h('code', {}, f.key), h('span', { class: 'roles' }, ` ${f.type} · ${f.states.map((s) => `${s.env}: ${s.state}`).join(' · ')}`))) : [h('li', { class: 'roles' }, 'none yet — try /flag create')]));
}

function connect() {
  const status = $('connection');
  const events = new EventSource('/api/events');
  events.onopen = () => {
    status.textContent = 'live';
    status.className = 'connection live';
    void refresh();
  };
  events.onmessage = () => void refresh();
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'connection down';
  };
}

function start() {
  const params = new URLSearchParams(window.location.search);
  ui.user = params.get('user') || localStorage.getItem('shipmate.user') || null;
  ui.place = params.get('channel') || localStorage.getItem('shipmate.place') || 'C0RELEASES';
  $('user-switcher').addEventListener('change', (e) => switchUser(e.target.value));
  setSidebar(!narrow());
  // Crossing into a narrow window folds the sidebar; widening brings it back.
  window.matchMedia('(max-width: 759px)').addEventListener('change', (e) => setSidebar(!e.matches));
  $('sidebar-toggle').addEventListener('click', () => setSidebar(document.body.classList.contains('sidebar-collapsed')));
  $('sidebar-backdrop').addEventListener('click', () => setSidebar(false));
  $('thread-close').addEventListener('click', () => {
    ui.thread = null;
    render();
  });
  const composer = $('composer');
  const submit = () => {
    const text = composer.value;
    composer.value = '';
    void send(text);
  };
  composer.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  $('composer-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  document.addEventListener('click', (e) => {
    const target = e.target instanceof Node && e.target.nodeType === 1 ? e.target : e.target?.parentElement;
    const mention = target?.closest?.('.mention.channel');
    if (mention && channel(mention.dataset.channel)) go(mention.dataset.channel);
    const link = target?.closest?.('a.permalink');
    if (link) {
      e.preventDefault();
      showMessage(link.dataset.gotoChannel, link.dataset.gotoTs);
    }
  });
  connect();
  void refresh().then(() => {
    if (ui.place === 'home') openHome();
  });
}

start();
