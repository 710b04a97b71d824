// Listeners for the gate message and App Home: checklist ticks, approvals, the reject modal, paging,
// re-running checks and the post-deploy sign-off. Each acks at once, then does the work.
import type { AllMiddlewareArgs, App, BlockAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS, deployIdFromBlockId, parseApproveValue } from '../../../blocks/action-ids.js';
import { rejectModal } from '../../../blocks/gate-message.js';
import type { Deps } from '../../deps.js';
import { NotAuthorizedError, UserInputError, replyForError } from '../../core/errors.js';
import { checkboxDelta } from '../../gates/gate-rules.js';
import { publishHome } from '../home.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

interface ShownBlock {
  block_id?: string;
  elements?: Array<{ action_id?: string; initial_options?: Array<{ value?: string }> }>;
}

/** Runs an action's work; errors become a private note to the clicker; a click from the Home tab refreshes it. */
function guarded(deps: Deps, name: string, work: (args: ActionArgs, user: string) => Promise<void>) {
  return async (args: ActionArgs): Promise<void> => {
    await args.ack();
    const user = args.body.user.id;
    const log = deps.log.child({ action: name, user });
    try {
      await work(args, user);
    } catch (err) {
      if (err instanceof NotAuthorizedError) log.warn({ reason: err.message }, 'action refused: not authorized');
      else if (!(err instanceof UserInputError)) log.info({ reason: (err as Error).message }, 'action refused');
      await tell(deps, args, replyForError(err));
    }
    if (args.body.view?.type === 'home') await publishHome(deps, user);
  };
}

async function tell(deps: Deps, args: ActionArgs, text: string): Promise<void> {
  try {
    if (args.body.response_url) await args.respond({ response_type: 'ephemeral', replace_original: false, text });
    else await deps.slack.chat.postMessage({ channel: args.body.user.id, text });
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'could not tell the user');
  }
}

export function registerGateActions(app: App, deps: Deps): void {
  app.action(
    ACTIONS.tickChecklist,
    guarded(deps, 'tick', async ({ body, action }, user) => {
      if (action.type !== 'checkboxes') return;
      const deployId = deployIdFromBlockId(action.block_id);
      if (!deployId) throw new UserInputError('That checklist no longer belongs to a deploy.');
      // What the clicker saw: the element's initial options in their copy of the message (or Home view).
      const shownBlocks = ((body.message?.blocks ?? body.view?.blocks ?? []) as ShownBlock[]).find((b) => b.block_id === action.block_id);
      const shown = (shownBlocks?.elements?.[0]?.initial_options ?? []).map((o) => o.value ?? '');
      const selected = action.selected_options.map((o) => o.value ?? '');
      const deltas = checkboxDelta(shown, selected);
      if (deltas.length === 0) return;
      await deps.gates.tick(deployId, user, deltas);
    }),
  );

  app.action(
    new RegExp(`^${ACTIONS.approve}:`),
    guarded(deps, 'approve', async ({ action }, user) => {
      const parsed = action.type === 'button' ? parseApproveValue(action.value) : undefined;
      if (!parsed) throw new UserInputError('That approval button is not one of mine.');
      await deps.gates.approve(parsed.deployId, user, parsed.role);
    }),
  );

  app.action(
    ACTIONS.reject,
    guarded(deps, 'reject', async ({ action, body, client }, user) => {
      const deployId = action.type === 'button' ? (action.value ?? '') : '';
      const record = await deps.gates.checkMayReject(deployId, user);
      await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(record, VIEWS.rejectReason, REJECT_REASON_BLOCK, REJECT_REASON_INPUT) });
    }),
  );

  app.view(VIEWS.rejectReason, async ({ ack, body, view }: SlackViewMiddlewareArgs & AllMiddlewareArgs) => {
    const reason = (view.state.values[REJECT_REASON_BLOCK]?.[REJECT_REASON_INPUT]?.value ?? '').trim();
    if (reason.length < 5) {
      await ack({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: 'Say why in a few words, so the requester knows what to fix.' } });
      return;
    }
    const user = body.user.id;
    try {
      await deps.gates.checkMayReject(view.private_metadata, user);
    } catch (err) {
      await ack({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: replyForError(err).replace(/^:[a-z_]+: /, '').slice(0, 150) } });
      return;
    }
    await ack();
    try {
      await deps.gates.reject(view.private_metadata, user, reason);
    } catch (err) {
      await deps.slack.chat.postMessage({ channel: user, text: replyForError(err) }).catch(() => undefined);
    }
  });

  app.action(
    new RegExp(`^${ACTIONS.gatePage}:`),
    guarded(deps, 'page', async ({ action }) => {
      const [deployId, page] = (action.type === 'button' ? (action.value ?? '') : '').split(':');
      if (deployId && page) await deps.gates.setPage(deployId, Number(page));
    }),
  );

  app.action(
    ACTIONS.rerunChecks,
    guarded(deps, 'rerun-checks', async ({ action }, user) => {
      if (action.type === 'button' && action.value) await deps.gates.rerunChecks(action.value, user);
    }),
  );

  app.action(
    ACTIONS.postDeploySignoff,
    guarded(deps, 'post-deploy-signoff', async ({ action }, user) => {
      if (action.type === 'button' && action.value) await deps.gates.postDeploySignoff(action.value, user);
    }),
  );
}
