// One running bot for the fuzz rows, and a way to put a request through it and see everything it did: the
// ack (and how long it took), records and queue jobs created, error lines logged, unhandled rejections.
// Most cases go to Bolt in process (app.processEvent: every middleware and listener, without HTTP); every
// tenth goes through the real HTTP receiver, signed, as Slack would send it.
import type { App } from '@slack/bolt';
import { isFinal } from '../../src/deploys/deploy-store.js';
import { CHANNEL, SIGNING_SECRET, type TestBot } from '../helpers/harness.js';
import { postSigned } from '../helpers/slack-requests.js';

export interface Outcome {
  via: 'bolt' | 'http';
  status?: number;
  acked: boolean;
  ackMs: number;
  /** What the ack (or the HTTP answer) said. */
  reply?: { response_type?: string; text?: string; response_action?: string; [k: string]: unknown };
  /** Deploy records created by the request. */
  created: string[];
  /** Queue jobs added (all states, all environments). */
  jobsAdded: number;
  /** Log lines at error level or above, and "unhandled" listener errors, written while it ran. */
  errors: string[];
}

export const INTERNAL_ERROR = /Something went wrong/;

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String((reason as Error)?.stack ?? reason).slice(0, 300)));

/** Unhandled rejections seen since the last call (they are counted against the case that was running). */
export function takeUnhandled(): string[] {
  return unhandled.splice(0);
}

export class FuzzDriver {
  private readonly app: App;
  constructor(readonly bot: TestBot) {
    if (!bot.shipmate.app) throw new Error('the fuzz bot needs the app role');
    this.app = bot.shipmate.app;
  }

  private async seq(): Promise<number> {
    return Number(await this.bot.shipmate.deps.redis.get(`${this.bot.prefix}:seq:deploy`));
  }

  private async jobs(): Promise<number> {
    let n = 0;
    for (const q of [...this.bot.shipmate.deps.queues.byEnv.values(), this.bot.shipmate.deps.queues.gates]) {
      n += Object.values(await q.getJobCounts()).reduce((a, b) => a + b, 0);
    }
    return n;
  }

  /** Sends one request: `form` is the body as Slack posts it (urlencoded), `parsed` the same as Bolt sees it. */
  async send(form: string, parsed: Record<string, unknown>, via: 'bolt' | 'http'): Promise<Outcome> {
    const [seqBefore, jobsBefore, logBefore] = [await this.seq(), await this.jobs(), this.bot.logs.raw().length];
    const started = performance.now();
    let outcome: Pick<Outcome, 'status' | 'acked' | 'ackMs' | 'reply'>;
    const errors: string[] = [];
    if (via === 'http') {
      const res = await postSigned(this.bot.url, form, { secret: SIGNING_SECRET });
      outcome = { status: res.status, acked: res.status === 200, ackMs: res.ms, reply: res.json };
    } else {
      let acked: { at: number; response: unknown } | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        // A request still being handled after 10 s counts as hung (and the fuzzing goes on).
        const hung = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error('still running after 10 s')), 10_000)));
        await Promise.race([hung, this.app.processEvent({
          body: parsed,
          ack: async (response?: unknown) => {
            if (acked) throw new Error('acked twice');
            acked = { at: performance.now(), response };
          },
        })]);
      } catch (err) {
        errors.push(`processEvent: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
      outcome = { acked: !!acked, ackMs: acked ? acked.at - started : Infinity, reply: acked?.response as Outcome['reply'] };
    }
    // Work after the ack (Slack posts, follow-ups) belongs to this case too.
    await new Promise((ok) => setTimeout(ok, via === 'http' ? 30 : 2));
    const seqAfter = await this.seq();
    const jobsAfter = await this.jobs();
    // Only the lines written during this case are parsed (the whole log grows to thousands of lines).
    const lines = this.bot.logs.raw().slice(logBefore).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) {
      if (Number(line.level) >= 50 || /unhandled/i.test(String(line.msg))) errors.push(`logged "${String(line.msg)}": ${String(line.err ?? line.reason ?? '').slice(0, 120)}`);
    }
    errors.push(...takeUnhandled().map((u) => `unhandled rejection: ${u}`));
    const created = Array.from({ length: seqAfter - seqBefore }, (_, i) => String(seqBefore + i + 1));
    return { via, ...outcome, created, jobsAdded: jobsAfter - jobsBefore, errors };
  }

  /** Ends deploys a case created (they are not what the next case is about) and removes their jobs. */
  async clear(ids: readonly string[]): Promise<void> {
    const { store, queues } = this.bot.shipmate.deps;
    for (const id of ids) {
      const r = await store.get(id);
      if (!r) continue;
      await queues.removeWaiting(r.env, id).catch(() => undefined);
      if (!isFinal(r.status)) await store.update(id, (x) => void (x.status = 'cancelled'));
    }
  }
}

/** A slash command as Slack posts it, urlencoded and as Bolt parses it. */
export function commandRequest(bot: TestBot, command: string, text: string, user: string): { form: string; parsed: Record<string, string> } {
  const form = new URLSearchParams({
    token: 'standin-verification-token', team_id: 'T0SHIPMATE', team_domain: 'shipmate', channel_id: CHANNEL, channel_name: 'releases',
    user_id: user, user_name: user.toLowerCase(), command, text, api_app_id: 'A0SHIPMATE', is_enterprise_install: 'false',
    response_url: bot.slack.responseUrlFor({ user, channel: CHANNEL }), trigger_id: `${Date.now()}.${user}.fuzz`,
  }).toString();
  return { form, parsed: Object.fromEntries(new URLSearchParams(form)) };
}

/** An interaction payload as Slack posts it (payload=<json>) and as Bolt parses it. */
export function payloadRequest(payload: unknown): { form: string; parsed: Record<string, unknown> } {
  const json = JSON.stringify(payload);
  return { form: new URLSearchParams({ payload: json }).toString(), parsed: JSON.parse(json) as Record<string, unknown> };
}

export function short(value: unknown, max = 120): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
