// The one delivery path for everything Shipmate says in Slack. send() only records the message in Redis and
// wakes the channel's delivery job (jobs/deliver.ts); the job posts or edits it — in order per channel, with
// retries, Retry-After honoured, and an idempotency key per message so a message is never lost or doubled.
//
// Redis layout (under `<prefix>:dlv:`):
//   m:<key>      hash: payload (latest JSON), ver (bumped on every send), v (caller's version), ch, queued,
//                ts + at (once posted), tried (when a post was first attempted: a retry looks for it first)
//   q:<channel>  list of keys waiting, oldest first; a key is in it at most once (edits coalesce)
//   gen:<channel> generation of the channel's delivery job: one job per generation, so one drainer per channel
//   channels     set of channels with something waiting (a restarted worker wakes each)
import type { KnownBlock } from '@slack/types';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { maskDeep, type Masker } from '../core/mask.js';

export interface OutgoingMessage {
  /** Idempotency key: one Slack message per key, e.g. `deploy:12:status`, `deploy:12:step:3`, `log:12`. */
  key: string;
  channel: string; // channel id or user id (DM)
  text: string;
  blocks?: KnownBlock[];
  /** Post in the thread of the message with this key (resolved when that one has been posted). */
  threadOf?: string;
  /** 'post' (default): post once. 'upsert': post the first time, then edit the same message (latest state wins). */
  mode?: 'post' | 'upsert';
  /**
   * Optional, for upserts rendered from a versioned record (e.g. its `rev`): a send older than one already
   * accepted is dropped, so two writers rendering different states can never leave the older one showing.
   */
  version?: number;
}

export interface Delivery {
  send(message: OutgoingMessage): Promise<void>;
  tsOf(key: string): Promise<{ channel: string; ts: string } | undefined>;
}

export interface DeliverJobData {
  channel: string;
  gen: number;
  /** Consecutive failed attempts of the message at the head of the channel (for the backoff). */
  attempt?: number;
}

export const DELIVER_QUEUE = 'deliver';

/** How long a message's key (and its ts) is remembered: edits and thread replies can come weeks later. */
const KEY_TTL_S = 60 * 60 * 24 * 30;

export function deliveryKeys(prefix: string) {
  const p = `${prefix}:dlv`;
  return {
    message: (key: string) => `${p}:m:${key}`,
    list: (channel: string) => `${p}:q:${channel}`,
    gen: (channel: string) => `${p}:gen:${channel}`,
    channels: `${p}:channels`,
  };
}

/** The job id of a channel's drainer for one generation (BullMQ ids may not hold ':'). */
export function deliverJobId(channel: string, gen: number | string): string {
  return `deliver-${channel.replace(/[^\w.-]/g, '_')}-${gen}`;
}

/**
 * Stores the latest payload under the key and queues the key on its channel unless it is queued already (then
 * the pending delivery simply picks up the newer payload). Returns {accepted, gen}.
 */
const ENQUEUE = `
local h = KEYS[1]
if ARGV[6] == 'post' and (redis.call('HEXISTS', h, 'ts') == 1 or redis.call('HEXISTS', h, 'payload') == 1) then
  return {0, redis.call('GET', KEYS[3]) or '0'}
end
if ARGV[2] ~= '' then
  local v = redis.call('HGET', h, 'v')
  if v and tonumber(v) > tonumber(ARGV[2]) then return {0, redis.call('GET', KEYS[3]) or '0'} end
  redis.call('HSET', h, 'v', ARGV[2])
end
-- The same state again (e.g. a re-render that changed nothing): no Slack call.
if redis.call('HGET', h, 'payload') == ARGV[1] then return {0, redis.call('GET', KEYS[3]) or '0'} end
redis.call('HSET', h, 'payload', ARGV[1], 'ch', ARGV[4])
redis.call('HINCRBY', h, 'ver', 1)
redis.call('EXPIRE', h, tonumber(ARGV[5]))
if redis.call('HSETNX', h, 'queued', '1') == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[4])
end
return {1, redis.call('GET', KEYS[3]) or '0'}`;

export class RedisDelivery implements Delivery {
  private readonly keys: ReturnType<typeof deliveryKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly queue: Queue<DeliverJobData>,
    /** Messages wait in Redis: masked before they are stored, like everything else Shipmate writes. */
    private readonly mask: Masker,
  ) {
    this.keys = deliveryKeys(prefix);
  }

  async send(message: OutgoingMessage): Promise<void> {
    const { key, channel } = message;
    const mode = message.mode ?? 'post';
    const { version, ...content } = maskDeep(message, this.mask);
    const [accepted, gen] = (await this.redis.eval(
      ENQUEUE, 4, this.keys.message(key), this.keys.list(channel), this.keys.gen(channel), this.keys.channels,
      JSON.stringify({ ...content, mode }), version === undefined ? '' : String(version), key, channel, KEY_TTL_S, mode,
    )) as [number, string];
    if (!accepted) return;
    await wake(this.queue, channel, Number(gen));
  }

  async tsOf(key: string): Promise<{ channel: string; ts: string } | undefined> {
    const [ts, channel] = await this.redis.hmget(this.keys.message(key), 'ts', 'at');
    return ts && channel ? { channel, ts } : undefined;
  }
}

/** Adds the channel's drainer for this generation; a second add of the same generation is a no-op (same job id). */
export async function wake(queue: Queue<DeliverJobData>, channel: string, gen: number): Promise<void> {
  // Slack failures are waited out inside the job (moved to delayed); attempts cover the rest (e.g. Redis hiccups),
  // so a channel's drainer never ends as failed while messages wait behind it.
  await queue.add('deliver', { channel, gen }, { jobId: deliverJobId(channel, gen), attempts: 20, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: { count: 100 } });
}
