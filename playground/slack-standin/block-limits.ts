// Block Kit limits Slack enforces, as a checker: returns Slack-style problem strings ("… [json-pointer:/blocks/3/text/text]").
type Json = Record<string, unknown>;

const BLOCK_TYPES = new Set([
  'section', 'divider', 'image', 'actions', 'context', 'input', 'header', 'file', 'video', 'rich_text', 'call',
  'markdown', 'table', 'context_actions', 'plan', 'task_card',
]);
/** Max options per element type (Slack's documented limits). */
const MAX_OPTIONS: Record<string, number> = {
  checkboxes: 10, radio_buttons: 10, static_select: 100, multi_static_select: 100, overflow: 5,
};

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (v: unknown): string | undefined => (isObj(v) && typeof v.text === 'string' ? v.text : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Whether a `slack_file` ({ id } or { url }) names an uploaded image the app may show; without one every file passes. */
export type ImageFileCheck = (ref: { id?: string; url?: string }) => boolean;

/** Every limit problem in `blocks` for the given surface; [] when Slack would accept them. */
export function blockLimitProblems(blocks: unknown[], surface: 'message' | 'modal' | 'home', base = '/blocks', imageFile?: ImageFileCheck): string[] {
  const out: string[] = [];
  // An image (block or element): alt text, and exactly one source — a public image_url or a slack_file by id or url.
  const image = (b: Json, path: string) => {
    if (typeof b.alt_text !== 'string' || b.alt_text === '') out.push(`missing required field: alt_text [json-pointer:${path}]`);
    else tooLong(b.alt_text, 2000, `${path}/alt_text`);
    if ((b.image_url === undefined) === (b.slack_file === undefined)) return void out.push(`must provide either image_url or slack_file, not both [json-pointer:${path}]`);
    if (b.image_url !== undefined) {
      if (typeof b.image_url !== 'string' || !/^https?:\/\//.test(b.image_url)) out.push(`invalid url [json-pointer:${path}/image_url]`);
      else tooLong(b.image_url, 3000, `${path}/image_url`);
      return;
    }
    const f = b.slack_file;
    const id = isObj(f) && typeof f.id === 'string' ? f.id : undefined;
    const url = isObj(f) && typeof f.url === 'string' ? f.url : undefined;
    if (!isObj(f) || (id === undefined) === (url === undefined) || (imageFile && !imageFile({ id, url }))) out.push(`invalid slack file [json-pointer:${path}/slack_file]`);
  };
  const tooLong = (value: string | undefined, max: number, path: string) => {
    if (value !== undefined && value.length > max) out.push(`must be less than ${max + 1} characters [json-pointer:${path}]`);
  };
  const tooMany = (items: unknown[], max: number, path: string) => {
    if (items.length > max) out.push(`no more than ${max} items allowed [json-pointer:${path}]`);
  };

  if (!Array.isArray(blocks)) return [`must be an array [json-pointer:${base}]`];
  tooMany(blocks, surface === 'message' ? 50 : 100, base);

  const element = (el: unknown, path: string) => {
    if (!isObj(el)) return;
    if (el.type === 'image') image(el, path);
    if (typeof el.action_id === 'string') tooLong(el.action_id, 255, `${path}/action_id`);
    if (el.type === 'button') {
      tooLong(textOf(el.text), 75, `${path}/text/text`);
      if (typeof el.value === 'string') tooLong(el.value, 2000, `${path}/value`);
      if (typeof el.url === 'string') tooLong(el.url, 3000, `${path}/url`);
    }
    const max = typeof el.type === 'string' ? MAX_OPTIONS[el.type] : undefined;
    if (max !== undefined) tooMany(arr(el.options), max, `${path}/options`);
    arr(el.options).forEach((o, i) => {
      if (!isObj(o)) return;
      tooLong(textOf(o.text), 75, `${path}/options/${i}/text/text`);
      if (typeof o.value === 'string') tooLong(o.value, 150, `${path}/options/${i}/value`);
    });
  };

  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const p = `${base}/${i}`;
    if (!isObj(b)) return void out.push(`must be an object [json-pointer:${p}]`);
    if (typeof b.type !== 'string' || !BLOCK_TYPES.has(b.type)) out.push(`unsupported type: ${String(b.type)} [json-pointer:${p}/type]`);
    if (typeof b.block_id === 'string') {
      tooLong(b.block_id, 255, `${p}/block_id`);
      if (blockIds.has(b.block_id)) out.push(`duplicate block_id: ${b.block_id} [json-pointer:${p}/block_id]`);
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'section':
        tooLong(textOf(b.text), 3000, `${p}/text/text`);
        tooMany(arr(b.fields), 10, `${p}/fields`);
        arr(b.fields).forEach((f, j) => tooLong(textOf(f), 2000, `${p}/fields/${j}/text`));
        if (b.text === undefined && b.fields === undefined) out.push(`must provide either text or fields [json-pointer:${p}]`);
        element(b.accessory, `${p}/accessory`);
        break;
      case 'header':
        tooLong(textOf(b.text), 150, `${p}/text/text`);
        break;
      case 'context':
        tooMany(arr(b.elements), 10, `${p}/elements`);
        arr(b.elements).forEach((el, j) => isObj(el) && el.type === 'image' && image(el, `${p}/elements/${j}`));
        break;
      case 'image':
        image(b, p);
        if (b.title !== undefined) tooLong(textOf(b.title), 2000, `${p}/title/text`);
        break;
      case 'input':
        element(b.element, `${p}/element`);
        break;
      case 'actions': {
        const elements = arr(b.elements);
        tooMany(elements, 25, `${p}/elements`);
        const seen = new Set<string>();
        elements.forEach((el, j) => {
          element(el, `${p}/elements/${j}`);
          const id = isObj(el) && typeof el.action_id === 'string' ? el.action_id : undefined;
          if (id === undefined) return;
          if (seen.has(id)) out.push(`duplicate action_id: ${id} [json-pointer:${p}/elements/${j}/action_id]`);
          seen.add(id);
        });
        break;
      }
    }
  });
  return out;
}

/** View-level checks (title/submit/close lengths, metadata, callback_id) plus the blocks, for views.open/update/push/publish. */
export function viewLimitProblems(view: unknown, kind: 'modal' | 'home', imageFile?: ImageFileCheck): { blocks: string[]; view: string[] } {
  if (!isObj(view)) return { blocks: [], view: ['must be an object [json-pointer:/view]'] };
  const problems: string[] = [];
  if (view.type !== kind) problems.push(`must be "${kind}" [json-pointer:/view/type]`);
  if (kind === 'modal' && textOf(view.title) === undefined) problems.push('missing required field: title [json-pointer:/view/title]');
  for (const key of ['title', 'submit', 'close'] as const) {
    const t = textOf(view[key]);
    if (t !== undefined && t.length > 24) problems.push(`must be less than 25 characters [json-pointer:/view/${key}/text]`);
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) {
    problems.push('must be less than 3001 characters [json-pointer:/view/private_metadata]');
  }
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) {
    problems.push('must be less than 256 characters [json-pointer:/view/callback_id]');
  }
  return { blocks: blockLimitProblems(arr(view.blocks), kind, '/view/blocks', imageFile), view: problems };
}
