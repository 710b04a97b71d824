// Signed requests to the bot with full control over what Slack would send: the timestamp, the signature,
// extra headers (x-slack-retry-num for redeliveries) and the raw body, for the resilience suite.
import { request } from 'node:http';
import { blockActionsBody, signSlackRequest } from '../../playground/slack-standin/requests.js';

export interface SentRequest {
  status: number;
  text: string;
  json?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  ms: number;
}

export interface SignedRequestOptions {
  secret: string;
  /** Signing time in seconds (default now); a stale request is signed with an old one. */
  timestampSec?: number;
  /** Sends exactly these signature headers instead of computing them (forgeries, replays). */
  signature?: { 'x-slack-signature'?: string; 'x-slack-request-timestamp'?: string };
  headers?: Record<string, string>;
  contentType?: string;
}

/** The signature headers Slack would send for `body` at `timestampSec`, to be sent again later unchanged. */
export function signatureFor(body: string, secret: string, timestampSec = Math.floor(Date.now() / 1000)): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  return signSlackRequest(secret, body, timestampSec);
}

/**
 * POSTs with node:http rather than fetch: a server that refuses an oversized body answers (413) and closes
 * the connection while the body is still being written, and that answer must still be read.
 */
export async function postSigned(url: string, body: string, opts: SignedRequestOptions): Promise<SentRequest> {
  const signature = opts.signature ?? signSlackRequest(opts.secret, body, opts.timestampSec);
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...Object.fromEntries(Object.entries(signature).filter((e): e is [string, string] => e[1] !== undefined)),
    ...opts.headers,
  };
  const started = performance.now();
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status, text, json, ms };
}

/** Headers of Slack's redelivery of a request it thinks timed out. */
export function retryHeaders(n: number, reason = 'http_timeout'): Record<string, string> {
  return { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': reason };
}

type ShownMessage = { channel: string; ts: string; text?: string; blocks?: unknown[] };

/** The block_actions body of `user` clicking the button `actionId` in `message` (as the harness's click sends it). */
export function buttonClickBody(message: ShownMessage, actionId: string, user: string, responseUrl: string, value?: string): string {
  const blocks = (message.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const element = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
  return blockActionsBody({
    user: { id: user },
    channel: { id: message.channel },
    message: { ts: message.ts, text: message.text, blocks: message.blocks } as never,
    actions: [{ action_id: actionId, value: value ?? element?.value }],
    response_url: responseUrl,
  });
}

/** The block_actions body of `user` ticking checklist item `itemId` in `message`. */
export function checkboxTickBody(message: ShownMessage, itemId: string, user: string, responseUrl: string): string {
  type Cb = { block_id?: string; elements?: Array<{ type: string; action_id: string; options: Array<{ value: string }>; initial_options?: Array<{ value: string }> }> };
  const block = ((message.blocks ?? []) as Cb[]).find((b) => b.elements?.some((e) => e.type === 'checkboxes' && e.options.some((o) => o.value === itemId)));
  const element = block?.elements?.find((e) => e.type === 'checkboxes');
  if (!block || !element) throw new Error(`no checkbox for ${itemId}`);
  const selected = [...(element.initial_options ?? []).filter((o) => o.value !== itemId), element.options.find((o) => o.value === itemId)];
  return blockActionsBody({
    user: { id: user },
    channel: { id: message.channel },
    message: { ts: message.ts, blocks: message.blocks } as never,
    actions: [{ action_id: element.action_id, block_id: block.block_id, type: 'checkboxes', selected_options: selected }],
    response_url: responseUrl,
  });
}

/**
 * Delivers one signed request `times` times, the way Slack redelivers a request it thinks timed out: the
 * same body with the same signature, the later copies carrying x-slack-retry-num 1, 2, …
 */
export async function deliverRepeatedly(url: string, body: string, secret: string, times = 2): Promise<SentRequest[]> {
  const signature = signatureFor(body, secret);
  const out: SentRequest[] = [];
  for (let n = 0; n < times; n++) out.push(await postSigned(url, body, { secret, signature, headers: n === 0 ? {} : retryHeaders(n) }));
  return out;
}
