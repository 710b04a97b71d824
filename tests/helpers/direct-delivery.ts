// Test double for notification rendering tests: a synchronous Delivery that posts with chat.postMessage and
// edits with chat.update, remembering each key's message in Redis. Shipmate itself always uses the queue-backed
// RedisDelivery (src/notify/delivery.ts); this only lets a unit test see rendered messages without a worker.
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger } from '../../src/core/logger.js';
import type { Delivery, OutgoingMessage } from '../../src/notify/delivery.js';

/** A key's message is remembered this long (a follow-up a month after its announcement is still threaded). */
const KEY_TTL_S = 90 * 24 * 3600;

export class DirectDelivery implements Delivery {
  constructor(
    private readonly slack: WebClient,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private keyOf(key: string): string {
    return `${this.prefix}:delivered:${key}`;
  }

  async tsOf(key: string): Promise<{ channel: string; ts: string } | undefined> {
    const raw = await this.redis.get(this.keyOf(key));
    return raw ? (JSON.parse(raw) as { channel: string; ts: string }) : undefined;
  }

  async send(message: OutgoingMessage): Promise<void> {
    try {
      const known = await this.tsOf(message.key);
      if (known) {
        if (message.mode === 'upsert') await this.slack.chat.update({ channel: known.channel, ts: known.ts, text: message.text, blocks: message.blocks ?? [] });
        return;
      }
      const parent = message.threadOf ? await this.tsOf(message.threadOf) : undefined;
      const res = await this.slack.chat.postMessage({
        channel: message.channel, text: message.text, unfurl_links: false,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(parent ? { thread_ts: parent.ts } : {}),
      });
      if (res.ts) await this.redis.set(this.keyOf(message.key), JSON.stringify({ channel: res.channel ?? message.channel, ts: res.ts }), 'EX', KEY_TTL_S);
    } catch (err) {
      this.log.warn({ key: message.key, err: (err as Error).message }, 'message not delivered');
    }
  }
}
