// Masks secret values (config `secrets` and Shipmate's own tokens) in everything bound for Slack, Redis or
// the logs. One masker per Shipmate, applied at those three boundaries: the Slack HTTP transport
// (maskingFetch), the deploy store's writes, and the logger's output stream.

export type Masker = (text: string) => string;

export const MASK = '••••••';

/** Shipmate's own credentials: always masked, whatever the config lists. */
export const OWN_TOKENS = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'GITHUB_TOKEN'] as const;

/**
 * The forms a value takes on its way out: as written, escaped inside a JSON string (log lines, stored
 * records), and URL-encoded (query strings, form bodies; both %20 and + for spaces).
 */
function forms(value: string): string[] {
  return [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)];
}

/**
 * Masks the values of the named environment variables (plus Shipmate's own tokens and any `extra` literal
 * values, e.g. a bot token given as an option rather than in the environment).
 */
export function createMasker(secretNames: readonly string[], env: NodeJS.ProcessEnv, extra: ReadonlyArray<string | undefined> = []): Masker {
  const names = new Set([...secretNames, ...OWN_TOKENS]);
  // Very short values would mask noise (and could match JSON structure).
  const values = [...[...names].map((n) => env[n]), ...extra].filter((v): v is string => typeof v === 'string' && v.length >= 4);
  // Longest first so a secret that contains another is masked whole.
  const patterns = [...new Set(values.flatMap(forms))].sort((a, b) => b.length - a.length);
  if (patterns.length === 0) return (text) => text;
  const pattern = new RegExp(patterns.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, MASK);
}

/** Masks every string (not the keys) in a JSON-like value; returns a copy, the input is left as it is. */
export function maskDeep<T>(value: T, mask: Masker): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => maskDeep(v, mask)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, mask)])) as T;
  }
  return value;
}

type FetchLike<I, R> = (url: string | URL, init?: I) => Promise<R>;
type BodyInit = { body?: unknown; headers?: unknown };

function contentType(headers: unknown): string {
  if (!headers) return '';
  if (headers instanceof Headers) return headers.get('content-type') ?? '';
  const entries = Array.isArray(headers) ? (headers as Array<[string, string]>) : Object.entries(headers as Record<string, string>);
  return entries.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
}

/** Masks a request body by its content type: form fields one by one (the token field left alone), JSON strings, else the text. */
export function maskRequestBody(body: string, type: string, mask: Masker): string {
  if (type.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    let changed = false;
    for (const [key, value] of form) {
      if (key === 'token') continue; // the credential the request authenticates with, never output
      const masked = mask(value);
      if (masked !== value) {
        form.set(key, masked);
        changed = true;
      }
    }
    return changed ? form.toString() : body;
  }
  if (type.includes('json')) {
    try {
      return JSON.stringify(maskDeep(JSON.parse(body) as unknown, mask));
    } catch {
      return mask(body);
    }
  }
  return mask(body);
}

/**
 * A fetch that masks every request body before it leaves. Given to every Slack client (Shipmate's own
 * WebClient, Bolt's per-request clients) and to Bolt's respond(), which posts to response_url with the
 * same fetch, so nothing bound for Slack gets past it. Headers (the bot token) and URLs are left alone.
 */
export function maskingFetch<I extends BodyInit, R>(mask: Masker, base: FetchLike<I, R>): FetchLike<I, R> {
  return (url, init) => {
    if (!init || typeof init.body !== 'string') return base(url, init);
    return base(url, { ...init, body: maskRequestBody(init.body, contentType(init.headers), mask) });
  };
}
