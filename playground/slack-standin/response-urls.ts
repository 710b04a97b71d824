// response_url handling of the stand-in: ephemeral / in_channel posts, replace_original and delete_original, 5 uses per URL.
import type { StandinMessage, Store } from './store.js';
import { messageProblems } from './web-api.js';

/** Who and where a response_url belongs to: the invoking user, the channel, and (for block actions) the source message. */
export interface ResponseUrlContext { user?: string; channel?: string; ts?: string }

const MAX_USES = 5; // Slack allows a response_url to be used 5 times (within 30 minutes)

export function createResponseUrls(store: Store) {
  const contexts = new Map<string, ResponseUrlContext & { uses: number }>();
  let seq = 0;

  return {
    register(ctx: ResponseUrlContext, id = `R${String(++seq).padStart(6, '0')}`): string {
      contexts.set(id, { ...ctx, uses: 0 });
      return id;
    },

    /** Applies one POST to /response/:id; returns the HTTP status and JSON body to answer with. */
    handle(id: string, body: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
      let ctx = contexts.get(id);
      if (!ctx) contexts.set(id, (ctx = { uses: 0 }));
      if (ctx.uses >= MAX_USES) return { status: 404, body: { ok: false, error: 'used_url' } };
      ctx.uses++;

      const original = ctx.ts && ctx.channel ? store.find(ctx.channel, ctx.ts, { ephemeral: true }) : undefined;
      if (body.delete_original === true || body.delete_original === 'true') {
        if (!original) return { status: 404, body: { ok: false, error: 'message_not_found' } };
        original.deleted = true;
        store.change({ type: 'message_deleted', message: original });
        return { status: 200, body: { ok: true } };
      }

      const bad = messageProblems(body);
      if (bad) return { status: 400, body: bad };
      const content = {
        text: typeof body.text === 'string' ? body.text : '',
        ...(Array.isArray(body.blocks) ? { blocks: body.blocks } : {}),
        ...(Array.isArray(body.attachments) ? { attachments: body.attachments } : {}),
      };

      if ((body.replace_original === true || body.replace_original === 'true') && original) {
        Object.assign(original, { blocks: undefined, attachments: undefined }, content, { edited: { ts: store.nextTs() } });
        store.change({ type: 'message_changed', message: original });
        return { status: 200, body: { ok: true } };
      }

      const inChannel = body.response_type === 'in_channel';
      if (!ctx.channel && inChannel) return { status: 404, body: { ok: false, error: 'channel_not_found' } };
      const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
      const { botUserId, botId } = store.opts;
      const m: StandinMessage = {
        channel: ctx.channel ?? 'UNKNOWN', ts: store.nextTs(), user: botUserId, bot_id: botId, replies: [], ...content,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(inChannel ? {} : { ephemeral: { user: ctx.user ?? 'UNKNOWN' } }),
      };
      store.messages.push(m);
      if (threadTs && inChannel) store.find(m.channel, threadTs)?.replies.push(m.ts);
      store.change({ type: inChannel ? 'message' : 'ephemeral', message: m });
      return { status: 200, body: { ok: true } };
    },
  };
}
