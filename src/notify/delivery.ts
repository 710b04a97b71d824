// The one delivery path for everything Shipmate says in Slack: messages keyed for idempotency, posted or edited in order.
import type { KnownBlock } from '@slack/types';

export interface OutgoingMessage {
  /** Idempotency key: one Slack message per key, e.g. `deploy:12:status`, `deploy:12:step:3`, `log:12`. */
  key: string;
  channel: string;            // channel id or user id (DM)
  text: string;
  blocks?: KnownBlock[];
  /** Post in the thread of the message with this key (resolved when that one has been posted). */
  threadOf?: string;
  /** 'post' (default): post once. 'upsert': post the first time, then edit the same message (latest state wins). */
  mode?: 'post' | 'upsert';
}

export interface Delivery {
  send(message: OutgoingMessage): Promise<void>;
  tsOf(key: string): Promise<{ channel: string; ts: string } | undefined>;
}
