// One guard for every interactive request, so no listener has to defend itself against odd payloads:
// - `receiverGuards`, the HTTP receiver's last resort for a payload Bolt cannot classify or read (no
//   middleware runs for it) or that no listener handles (an unknown action or view id): a logged refusal
//   and a 200 inside Slack's 3 s, never a 404 or a 500;
// - `payloadGuard`, a global middleware, checks the shape of each signed slash command, click and modal
//   submission before any listener runs; a malformed one, or a kind Shipmate registers nothing for, is
//   acked, logged as refused, and the person (when we can tell who) is told privately; and a click or modal
//   submission delivered twice (same trigger, same action) is acked and dropped, so it has one effect;
// - `actionListener` / `viewListener` wrap the listeners: ack first, then the work, and any error becomes
//   a private reply and a log line instead of escaping into Bolt.
import {
  AuthorizationError, HTTPModuleFunctions, type AllMiddlewareArgs, type AnyMiddlewareArgs, type BlockAction, type ReceiverProcessEventErrorHandlerArgs,
  type ReceiverUnhandledRequestHandlerArgs, type SlackActionMiddlewareArgs, type SlackViewMiddlewareArgs,
} from '@slack/bolt';
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotAuthorizedError, UserInputError, replyForError } from '../../core/errors.js';
import type { Deps } from '../../deps.js';
import { publishHome } from '../home.js';

const id = z.string().min(1).max(255);
const user = z.object({ id });

// Buttons and checkboxes (what Shipmate's messages hold) are checked in detail; other kinds only for an id.
const button = z.object({ type: z.literal('button'), action_id: id, value: z.string().max(2000).optional() });
const checkboxes = z.object({ type: z.literal('checkboxes'), action_id: id, block_id: id, selected_options: z.array(z.object({ value: z.string().max(2000) })) });
const otherElement = z.object({ type: z.string().refine((t) => t !== 'button' && t !== 'checkboxes'), action_id: id });

const blockActions = z.object({
  type: z.literal('block_actions'),
  user,
  actions: z.array(z.union([button, checkboxes, otherElement])).length(1),
  response_url: z.string().optional(),
  message: z.object({ blocks: z.array(z.unknown()).optional() }).optional(),
  view: z.object({ id: z.string(), type: z.string(), blocks: z.array(z.unknown()).optional() }).optional(),
});

const viewSubmission = z.object({
  type: z.literal('view_submission'),
  user,
  view: z.object({
    callback_id: id,
    private_metadata: z.string().max(3000),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }),
  }),
});

const slashCommand = z.object({ command: id, text: z.string(), user_id: id, channel_id: id });

type Body = Record<string, unknown>;

/** Why a payload is refused, or undefined when its listener can take it. */
function problemWith(body: Body): string | undefined {
  const issues = (r: { success: boolean; error?: z.ZodError }) => (r.success ? undefined : (r.error?.issues ?? []).slice(0, 3).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  if ('command' in body) return issues(slashCommand.safeParse(body));
  switch (body.type) {
    // An action or view id no listener knows passes: nothing acks it, and receiverGuards refuses it (logged, 200).
    case 'block_actions':
      return issues(blockActions.safeParse(body));
    case 'view_submission':
      return issues(viewSubmission.safeParse(body));
    case 'event_callback':
      return undefined;
    default:
      // Shortcuts, option requests, view_closed, legacy attachments: Shipmate registers none of them.
      return `not handled: ${String(body.type ?? 'no type').slice(0, 40)}`;
  }
}

/** The user a payload names, if it names one plausibly. */
function userOf(body: Body): string | undefined {
  const u = (body.user as { id?: unknown } | undefined)?.id ?? body.user_id;
  return typeof u === 'string' && /^[UW][A-Z0-9]{1,30}$/.test(u) ? u : undefined;
}

const MALFORMED_REPLY = ':warning: Shipmate could not read that request (it arrived incomplete or from an old message), so nothing was changed. Try again from the latest message.';

/** How long the HTTP receiver waits for an ack before it answers by itself: inside Slack's 3 s. */
const ACK_DEADLINE_MS = 2_500;

/**
 * The HTTP receiver's last resort, for a signed payload Bolt chokes on before any middleware runs: one it
 * cannot classify (a block_actions without `actions`, an unknown `type`: nothing acks it, Bolt would answer
 * 404 after 3 s) or one it cannot read (no `user`: Bolt throws, and would answer 500). Either way a logged
 * refusal and a 200 inside Slack's 3 s; the same for an action or view id that no listener handles (an old
 * message's button). Errors after an ack, and authorization errors, keep Bolt's handling.
 */
export function receiverGuards(log: Deps['log']) {
  return {
    unhandledRequestTimeoutMillis: ACK_DEADLINE_MS,
    unhandledRequestHandler: ({ request, response }: ReceiverUnhandledRequestHandlerArgs): void => {
      const ids = idsIn(request as { rawBody?: Buffer });
      log.warn({ ids, reason: 'nothing acknowledged it: an action or view no listener handles, or a payload Bolt could not classify' }, 'interaction refused: not acknowledged');
      if (!response.headersSent) response.writeHead(200).end();
    },
    processEventErrorHandler: async (args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
      if (args.response.headersSent || args.error instanceof AuthorizationError) return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
      log.warn({ reason: args.error.message }, 'interaction refused: malformed payload (Bolt could not read it)');
      args.response.writeHead(200).end();
      return true;
    },
  };
}

/** The action or view ids a raw request names, for the refusal's log line. */
function idsIn(request: { rawBody?: Buffer }): string[] {
  try {
    const raw = request.rawBody?.toString('utf8') ?? '';
    const body = JSON.parse(new URLSearchParams(raw).get('payload') ?? raw) as { actions?: Array<{ action_id?: unknown }>; view?: { callback_id?: unknown } };
    return [...(Array.isArray(body.actions) ? body.actions.map((a) => a?.action_id) : []), body.view?.callback_id].filter((x): x is string => typeof x === 'string').map((x) => x.slice(0, 80));
  } catch {
    return [];
  }
}

/** Global middleware (app.use): refuses what no listener should see; everything else goes on unchanged. */
export function payloadGuard(deps: Deps) {
  return async (args: AnyMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const body = args.body as unknown as Body;
    const problem = problemWith(body);
    if (!problem) {
      if (await isRedelivery(deps, body)) {
        await (args as { ack?: () => Promise<void> }).ack?.().catch(() => undefined);
        deps.log.info({ kind: body.type, user: userOf(body) }, 'interaction delivered again: ignored (it had its effect the first time)');
        return;
      }
      await args.next();
      return;
    }
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (ack) await ack().catch(() => undefined);
    const who = userOf(body);
    deps.log.warn({ kind: body.type ?? (body.command ? 'command' : 'unknown'), user: who, reason: problem }, 'interaction refused: malformed or unknown payload');
    if (who) await tellPrivately(deps, { user: who, respond: (args as { respond?: Respond }).respond }, MALFORMED_REPLY);
  };
}

/** How long a click or submission is remembered, to recognise it when it is delivered again. */
const DELIVERY_TTL_S = 60 * 60;

/**
 * A click or modal submission Slack (or a proxy) delivers twice carries the same trigger_id and action: the
 * first delivery claims it (SET NX); later ones are dropped. Slash commands are deduplicated where they create
 * something (DeployStore.createOnce). When Redis can't be asked, the listener runs and meets the same outage.
 */
async function isRedelivery(deps: Deps, body: Body): Promise<boolean> {
  const trigger = typeof body.trigger_id === 'string' ? body.trigger_id : undefined;
  if (!trigger || (body.type !== 'block_actions' && body.type !== 'view_submission')) return false;
  // A redelivery is the same payload again: same trigger, same action (with its value or selection) or submission.
  const what = createHash('sha256').update(JSON.stringify(body.type === 'block_actions' ? body.actions : [(body.view as { id?: string } | undefined)?.id, (body.view as { state?: unknown } | undefined)?.state])).digest('hex').slice(0, 32);
  try {
    const first = await deps.redis.set(`${deps.prefix}:interaction:${trigger}:${body.type}:${what}`, '1', 'EX', DELIVERY_TTL_S, 'NX');
    return first !== 'OK';
  } catch {
    return false;
  }
}

type Respond = (message: { response_type: 'ephemeral'; replace_original: false; text: string }) => Promise<unknown>;

/** A private note: through the response_url when there is one, else as a DM. Failing to tell is logged, not thrown. */
export async function tellPrivately(deps: Deps, to: { user: string; respond?: Respond }, text: string): Promise<void> {
  try {
    if (to.respond) await to.respond({ response_type: 'ephemeral', replace_original: false, text });
    else await deps.delivery.send({ key: `tell:${to.user}:${randomUUID()}`, channel: to.user, text });
  } catch (err) {
    deps.log.warn({ user: to.user, err: (err as Error).message }, 'could not tell the user');
  }
}

function logRefusal(log: Deps['log'], err: unknown, what: string): void {
  if (err instanceof NotAuthorizedError) log.warn({ reason: err.message }, `${what} refused: not authorized`);
  else if (err instanceof UserInputError || err instanceof ConflictError) log.info({ reason: err.message }, `${what} refused`);
  else log.error({ err: (err as Error).message, stack: (err as Error).stack }, `${what} failed`);
}

export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;
export interface ActionContext {
  user: string;
  log: Deps['log'];
  /** Tells the clicker privately. */
  tell: (text: string) => Promise<void>;
}

/** Wraps a click listener: acks at once, runs the work, turns errors into a private reply; a click from Home refreshes it. */
export function actionListener(deps: Deps, name: string, work: (args: ActionArgs, ctx: ActionContext) => Promise<void>) {
  return async (args: ActionArgs): Promise<void> => {
    await args.ack();
    const user = args.body.user.id;
    const log = deps.log.child({ action: name, user });
    const tell = (text: string) => tellPrivately(deps, { user, respond: args.body.response_url ? (args.respond as Respond) : undefined }, text);
    try {
      await work(args, { user, log, tell });
    } catch (err) {
      logRefusal(log, err, 'action');
      await tell(replyForError(err));
    }
    if (args.body.view?.type === 'home') await publishHome(deps, user);
  };
}

export type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;
/** What a modal submission answers: errors shown under its inputs (the modal stays open), or close it and do `after`. */
export type ViewOutcome = { errors: Record<string, string> } | { after: () => Promise<void> };

/** Wraps a modal submission listener: the ack is the outcome; an error before it closes the modal and says why by DM. */
export function viewListener(deps: Deps, name: string, handle: (args: ViewArgs, ctx: { user: string; log: Deps['log'] }) => Promise<ViewOutcome>) {
  return async (args: ViewArgs): Promise<void> => {
    const user = args.body.user.id;
    const log = deps.log.child({ view: name, user });
    let outcome: ViewOutcome;
    try {
      outcome = await handle(args, { user, log });
    } catch (err) {
      await args.ack();
      logRefusal(log, err, 'view');
      await tellPrivately(deps, { user }, replyForError(err));
      return;
    }
    if ('errors' in outcome) {
      await args.ack({ response_action: 'errors', errors: outcome.errors });
      return;
    }
    await args.ack();
    try {
      await outcome.after();
    } catch (err) {
      logRefusal(log, err, 'view');
      await tellPrivately(deps, { user }, replyForError(err));
    }
  };
}

/** A reply error as a short line for a modal's error slot (no emoji, within Slack's limit). */
export function inlineError(err: unknown): string {
  return replyForError(err).replace(/^:[a-z_]+: /, '').slice(0, 150);
}
