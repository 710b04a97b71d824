// The delivery job: drains one channel's queue of messages (src/notify/delivery.ts) in order. Each message is
// posted once (its key's ts stored), or edited to its latest payload. When Slack fails, the job moves itself to
// 'delayed' (Retry-After, or an exponential backoff) and the channel waits — order kept, nothing lost, and no
// worker slot or deploy held. A post whose answer never came is looked up by its metadata before posting again.
import { DelayedError, type Job } from 'bullmq';
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger } from '../src/core/logger.js';
import { deliveryKeys, type DeliverJobData, type OutgoingMessage } from '../src/notify/delivery.js';

export const METADATA_EVENT = 'shipmate_message';

export interface DeliverOptions {
  redis: Redis;
  prefix: string;
  /** A client with no retries of its own and rejectRateLimitedCalls: the job does the waiting. */
  slack: WebClient;
  log: Logger;
  /** Called once a message has its ts (first post, or found again after a lost answer). */
  onPosted?: (key: string, where: { channel: string; ts: string }) => Promise<void>;
  /** Soft pace of edits to one message (Slack's chat.update allows about one a second per message). */
  editPaceMs?: number;
  /** Backoff after a failure: base * 2^attempt, capped. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** The head message was delivered (or dropped): pop it unless a newer payload for it came meanwhile. */
const FINISH = `
local ver = redis.call('HGET', KEYS[2], 'ver')
if ver and ver ~= ARGV[2] then return 0 end
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
redis.call('HDEL', KEYS[2], 'queued')
return 1`;

/** The channel looks empty: end this generation (a later send starts the next), unless something just came. */
const DONE = `
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1`;

class Retry extends Error {
  constructor(readonly delayMs: number, reason: string) {
    super(reason);
  }
}

/** Errors worth waiting out; anything else (channel_not_found, invalid_blocks, …) will never succeed. */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'rate_limited', 'team_added_to_org']);

export function createDeliverProcessor(o: DeliverOptions) {
  const keys = deliveryKeys(o.prefix);
  const editPace = o.editPaceMs ?? 1000;
  const base = o.backoffMs ?? 500;
  const cap = o.maxBackoffMs ?? 60_000;

  const classify = (err: unknown, attempt: number): Retry | undefined => {
    const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; message?: string };
    const backoff = Math.min(cap, base * 2 ** attempt);
    if (err instanceof Retry) return err;
    if (e.code === ErrorCode.RateLimitedError) return new Retry(Math.max(1, e.retryAfter ?? 1) * 1000, 'rate limited');
    if (e.code === ErrorCode.PlatformError) return TRANSIENT.has(e.data?.error ?? '') ? new Retry(backoff, e.data?.error ?? 'error') : undefined;
    return new Retry(backoff, e.message ?? String(err)); // HTTP 5xx, timeouts, connection errors
  };

  /** Where a DM to a user lives (history needs the channel id). */
  const historyChannel = async (channel: string): Promise<string> => {
    if (!/^[UW]/.test(channel)) return channel;
    const res = await o.slack.conversations.open({ users: channel });
    return res.channel?.id ?? channel;
  };

  /** The message an earlier attempt may have posted (its answer lost): found by the key in its metadata. */
  async function findPosted(m: OutgoingMessage, triedAt: number, threadTs: string | undefined): Promise<{ channel: string; ts: string } | undefined> {
    const channel = await historyChannel(m.channel);
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = threadTs
        ? await o.slack.conversations.replies({ channel, ts: threadTs, include_all_metadata: true, limit: 200, cursor })
        : await o.slack.conversations.history({ channel, oldest: String(triedAt / 1000 - 60), include_all_metadata: true, limit: 200, cursor });
      const hit = res.messages?.find((msg) => msg.metadata?.event_type === METADATA_EVENT && (msg.metadata.event_payload as { key?: string } | undefined)?.key === m.key);
      if (hit?.ts) return { channel, ts: hit.ts };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  async function deliverOne(key: string, h: Record<string, string>): Promise<void> {
    const m = JSON.parse(h.payload ?? '{}') as OutgoingMessage;
    const hash = keys.message(key);
    const content = { text: m.text, ...(m.blocks ? { blocks: m.blocks } : {}) };
    if (h.ts && h.at) {
      if (m.mode !== 'upsert') return;
      const since = Date.now() - Number(h.edited ?? 0);
      if (since < editPace) throw new Retry(editPace - since, 'paced'); // newer states coalesce meanwhile
      await o.slack.chat.update({ channel: h.at, ts: h.ts, ...content });
      await o.redis.hset(hash, 'edited', Date.now());
      return;
    }
    let threadTs: string | undefined;
    if (m.threadOf) {
      const [parentTs, parentQueued] = await o.redis.hmget(keys.message(m.threadOf), 'ts', 'queued');
      if (!parentTs && parentQueued) throw new Retry(base, `waiting for ${m.threadOf}`);
      threadTs = parentTs ?? undefined; // a parent that was never sent: post at the top level rather than never
    }
    let where: { channel: string; ts: string } | undefined;
    if (h.tried) where = await findPosted(m, Number(h.tried), threadTs);
    if (!where) {
      if (!h.tried) await o.redis.hset(hash, 'tried', Date.now());
      const res = await o.slack.chat.postMessage({
        channel: m.channel, ...content, ...(threadTs ? { thread_ts: threadTs } : {}), unfurl_links: false,
        metadata: { event_type: METADATA_EVENT, event_payload: { key } },
      });
      if (!res.ts) throw new Retry(base, 'no ts in the answer');
      where = { channel: res.channel ?? m.channel, ts: res.ts };
    } else if (m.mode === 'upsert') {
      // Found the post of an earlier attempt: bring it to the latest state.
      await o.slack.chat.update({ channel: where.channel, ts: where.ts, ...content });
    }
    await o.redis.hset(hash, 'ts', where.ts, 'at', where.channel, 'edited', Date.now());
    await o.onPosted?.(key, where).catch((err: Error) => o.log.warn({ key, err: err.message }, 'posted-message hook failed'));
  }

  return async function process(job: Job<DeliverJobData>, token?: string): Promise<void> {
    const { channel, gen } = job.data;
    const list = keys.list(channel);
    // A stale generation (e.g. a stalled job run again after its successor started) must not drain alongside it.
    if (Number((await o.redis.get(keys.gen(channel))) ?? 0) !== gen) return;
    for (;;) {
      const key = await o.redis.lindex(list, 0);
      if (!key) {
        if (await o.redis.eval(DONE, 3, list, keys.gen(channel), keys.channels, channel)) return;
        continue;
      }
      const h = await o.redis.hgetall(keys.message(key));
      if (h.payload) {
        try {
          await deliverOne(key, h);
          if (job.data.attempt) await job.updateData({ ...job.data, attempt: 0 });
        } catch (err) {
          const attempt = job.data.attempt ?? 0;
          const retry = classify(err, attempt);
          if (retry) {
            if (retry.message !== 'paced') o.log.warn({ key, channel, attempt, delayMs: retry.delayMs, err: retry.message }, 'slack message not delivered yet; retrying');
            await job.updateData({ ...job.data, attempt: retry.message === 'paced' ? attempt : attempt + 1 });
            await job.moveToDelayed(Date.now() + retry.delayMs, token);
            throw new DelayedError();
          }
          o.log.warn({ key, channel, err: (err as Error).message }, 'slack message dropped: slack refused it');
        }
      }
      await o.redis.eval(FINISH, 2, list, keys.message(key), key, h.ver ?? '');
    }
  };
}
