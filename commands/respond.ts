// Shared plumbing for slash commands: ack once with a private reply, map typed errors to words, log each request.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { Deps } from '../src/deps.js';
import { NotAuthorizedError, UserInputError, replyForError } from '../src/core/errors.js';
import { commandHelp, isHelpRequest } from './help.js';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export interface CommandOutcome {
  /** The private reply sent with the ack. */
  reply: string | { text: string; blocks: KnownBlock[] };
  /** Work that may take longer (Slack calls); runs after the ack, never before it. */
  after?: () => Promise<void>;
}

/**
 * `help` (or `--help`, `?`) on any command answers with its usage and examples; with `helpWhenEmpty`, so does the
 * command with no text at all (`/deploy` alone can only mean "how does this work?").
 */
export function commandListener(name: string, deps: Deps, handle: (args: CommandArgs, log: Deps['log']) => Promise<CommandOutcome>, opts: { helpWhenEmpty?: boolean } = {}) {
  return async (args: CommandArgs): Promise<void> => {
    const { command, ack } = args;
    const log = deps.log.child({ command: name, user: command.user_id, channel: command.channel_id });
    let outcome: CommandOutcome;
    try {
      const asksHelp = isHelpRequest(command.text) || (opts.helpWhenEmpty === true && command.text.trim() === '');
      outcome = asksHelp ? { reply: commandHelp(name, deps.config) } : await handle(args, log);
    } catch (err) {
      if (err instanceof UserInputError) log.info({ text: command.text, reason: err.message }, 'command refused: bad input');
      else if (err instanceof NotAuthorizedError) log.warn({ text: command.text, reason: err.message }, 'command refused: not authorized');
      else log.error({ text: command.text, err: (err as Error).message, stack: (err as Error).stack }, 'command failed');
      await ack({ response_type: 'ephemeral', text: replyForError(err) });
      return;
    }
    const reply = typeof outcome.reply === 'string' ? { text: outcome.reply } : outcome.reply;
    await ack({ response_type: 'ephemeral', ...reply });
    if (outcome.after) {
      try {
        await outcome.after();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'command follow-up failed');
      }
    }
  };
}
