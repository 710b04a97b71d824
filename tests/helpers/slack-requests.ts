// Signed requests to the bot with full control over what Slack would send: the timestamp, the signature,
// extra headers (x-slack-retry-num for redeliveries) and the raw body, for the resilience suite.
import { request } from 'node:http';
import { signSlackRequest } from '../../playground/slack-standin/requests.js';

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
