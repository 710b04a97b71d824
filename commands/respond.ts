// Shared plumbing for slash commands: ack once with a private reply, map typed errors to words, log each request.
// Every command is answered within Slack's 3 s, whatever Redis and Slack do: the handler gets a commit
// deadline (after it, nothing may be written) and a slower handler is acked with a holding reply.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { Deps } from '../src/deps.js';
import { NotAuthorizedError, UserInputError, replyForError } from '../src/core/errors.js';
import { LockedError } from '../src/deploys/locks.js';
import { isRedisUnavailable } from '../src/core/redis.js';
import { commandHelp, isHelpRequest } from './help.js';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export interface CommandOutcome {
  /** The private reply sent with the ack. */
  reply: string | { text: string; blocks: KnownBlock[] };
  /** Work that may take longer (Slack calls); runs after the ack, never before it. */
  after?: () => Promise<void>;
}

/** After this, a handler must not start writing: what it writes could outlive a reply saying "not queued". */
export const COMMIT_BY_MS = 1_500;
/** Slack gives up at 3 s; a handler still busy by then is acked with a holding reply. */
export const ACK_BY_MS = 2_500;

export const DATABASE_DOWN_REPLY = ':warning: Shipmate can’t reach its database right now; nothing was queued — try again in a minute.';
const STILL_WORKING_REPLY = ':hourglass_flowing_sand: Still working on this — Shipmate is slow to reach its database or Slack. The answer will follow here; check `/deploys` before trying again.';

function replyFor(err: unknown): string {
  // A Redis error, or the commit deadline passing, before anything was written (the services make sure of that).
  if (isRedisUnavailable(err) || (err instanceof Error && err.name === 'TimeoutError')) return DATABASE_DOWN_REPLY;
  return replyForError(err);
}

/**
 * `help` (or `--help`, `?`) on any command answers with its usage and examples; with `helpWhenEmpty`, so does the
 * command with no text at all (`/deploy` alone can only mean "how does this work?").
 */
export function commandListener(
  name: string,
  deps: Deps,
  handle: (args: CommandArgs, log: Deps['log'], signal: AbortSignal) => Promise<CommandOutcome>,
  opts: { helpWhenEmpty?: boolean } = {},
) {
  return async (args: CommandArgs): Promise<void> => {
    const { command, ack, respond } = args;
    const log = deps.log.child({ command: name, user: command.user_id, channel: command.channel_id });
    const failed = (err: unknown): string | { text: string; blocks: KnownBlock[] } => {
      if (err instanceof UserInputError) log.info({ text: command.text, reason: err.message }, 'command refused: bad input');
      else if (err instanceof NotAuthorizedError) log.warn({ text: command.text, reason: err.message }, 'command refused: not authorized');
      else if (isRedisUnavailable(err)) log.warn({ text: command.text, err: (err as Error).message }, 'command refused: redis unavailable');
      else log.error({ text: command.text, err: (err as Error).message, stack: (err as Error).stack }, 'command failed');
      // A refusal that offers a way on (a locked environment's *Tell me when it's free*) keeps its button.
      return err instanceof LockedError ? { text: replyFor(err), blocks: err.blocks } : replyFor(err);
    };
    const asksHelp = isHelpRequest(command.text) || (opts.helpWhenEmpty === true && command.text.trim() === '');
    const work = asksHelp ? Promise.resolve<CommandOutcome>({ reply: commandHelp(name, deps.config) }) : handle(args, log, AbortSignal.timeout(COMMIT_BY_MS));
    const handled = work.then(
      (outcome) => ({ outcome }),
      (err: unknown) => ({ error: failed(err) }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((ok) => (timer = setTimeout(() => ok('late'), ACK_BY_MS)));
    const first = await Promise.race([handled, late]);
    clearTimeout(timer);
    if (first === 'late') {
      log.warn({ text: command.text }, 'command acked before its handler finished');
      await ack({ response_type: 'ephemeral', text: STILL_WORKING_REPLY });
    }
    const result = await handled;
    const text = 'error' in result ? (typeof result.error === 'string' ? { text: result.error } : result.error) : typeof result.outcome.reply === 'string' ? { text: result.outcome.reply } : result.outcome.reply;
    if (first === 'late') {
      await respond({ response_type: 'ephemeral', replace_original: false, ...text }).catch((err: Error) => log.warn({ err: err.message }, 'late reply not delivered'));
    } else {
      await ack({ response_type: 'ephemeral', ...text });
    }
    if ('outcome' in result && result.outcome.after) {
      try {
        await result.outcome.after();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'command follow-up failed');
      }
    }
  };
}
