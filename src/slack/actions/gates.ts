// Listeners for the gate message and App Home: checklist ticks, approvals, the reject and withdraw modals,
// paging, re-running checks and the post-deploy sign-off. Each acks at once (guard.ts), then does the work.
import type { App } from '@slack/bolt';
import {
  ACTIONS, REJECT_REASON_BLOCK, REJECT_REASON_INPUT, VIEWS, WITHDRAW_REASON_BLOCK, WITHDRAW_REASON_INPUT,
  deployIdFromBlockId, parseApproveValue, parseDeployId, parsePageValue,
} from '../../../blocks/action-ids.js';
import { rejectModal, withdrawModal } from '../../../blocks/gate-message.js';
import type { Deps } from '../../deps.js';
import { UserInputError } from '../../core/errors.js';
import type { DeployRecord } from '../../deploys/deploy-store.js';
import { checkboxDelta } from '../../gates/gate-rules.js';
import { actionListener, inlineError, viewListener, type ActionArgs, type ViewArgs, type ViewOutcome } from './guard.js';

interface ShownBlock {
  block_id?: string;
  elements?: Array<{ action_id?: string; initial_options?: Array<{ value?: string }> }>;
}

/** The deploy id a button carries, or a clear refusal. */
function buttonDeployId(args: ActionArgs): string {
  const id = parseDeployId(args.action.type === 'button' ? args.action.value : undefined);
  if (!id) throw new UserInputError('That button does not name a deploy; use the latest gate message.');
  return id;
}

/**
 * A modal that asks why (reject, withdraw): a short reason keeps the modal open with a hint; so does a refusal
 * (said under the input); otherwise the modal closes and `act` runs after the ack.
 */
function reasonSubmission(
  block: string, input: string,
  check: (deployId: string, user: string) => Promise<unknown>,
  act: (deployId: string, user: string, reason: string) => Promise<unknown>,
) {
  return async ({ view }: ViewArgs, { user }: { user: string }): Promise<ViewOutcome> => {
    const deployId = parseDeployId(view.private_metadata);
    if (!deployId) throw new UserInputError('That form does not belong to a deploy any more; nothing was changed.');
    const value = (view.state.values[block]?.[input] as { value?: unknown } | undefined)?.value;
    const reason = (typeof value === 'string' ? value : '').trim();
    if (reason.length < 5) return { errors: { [block]: 'Say why in a few words, so the requester knows what to fix.' } };
    try {
      await check(deployId, user);
    } catch (err) {
      return { errors: { [block]: inlineError(err) } };
    }
    return { after: async () => void (await act(deployId, user, reason)) };
  };
}

export function registerGateActions(app: App, deps: Deps): void {
  app.action(
    ACTIONS.tickChecklist,
    actionListener(deps, 'tick', async ({ body, action }, { user }) => {
      if (action.type !== 'checkboxes') throw new UserInputError('That checklist click did not come from a checkbox.');
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
    actionListener(deps, 'approve', async ({ action }, { user }) => {
      const parsed = action.type === 'button' ? parseApproveValue(action.value) : undefined;
      if (!parsed) throw new UserInputError('That approval button is not one of mine.');
      await deps.gates.approve(parsed.deployId, user, parsed.role);
    }),
  );

  app.action(
    ACTIONS.reject,
    actionListener(deps, 'reject', async (args, { user }) => {
      const record = await deps.gates.checkMayReject(buttonDeployId(args), user);
      await args.client.views.open({ trigger_id: args.body.trigger_id, view: rejectModal(record, VIEWS.rejectReason, REJECT_REASON_BLOCK, REJECT_REASON_INPUT) });
    }),
  );

  app.view(
    VIEWS.rejectReason,
    viewListener(deps, 'reject', reasonSubmission(REJECT_REASON_BLOCK, REJECT_REASON_INPUT, (id, user) => deps.gates.checkMayReject(id, user), (id, user, reason) => deps.gates.reject(id, user, reason))),
  );

  app.action(
    ACTIONS.withdrawDeploy,
    actionListener(deps, 'withdraw', async (args, { user }) => {
      const record: DeployRecord = await deps.deploys.checkMayWithdraw(buttonDeployId(args), user);
      await args.client.views.open({ trigger_id: args.body.trigger_id, view: withdrawModal(record, VIEWS.withdrawReason, WITHDRAW_REASON_BLOCK, WITHDRAW_REASON_INPUT) });
    }),
  );

  app.view(
    VIEWS.withdrawReason,
    viewListener(deps, 'withdraw', reasonSubmission(WITHDRAW_REASON_BLOCK, WITHDRAW_REASON_INPUT, (id, user) => deps.deploys.checkMayWithdraw(id, user), (id, user, reason) => deps.deploys.withdraw(id, user, reason))),
  );

  app.action(
    new RegExp(`^${ACTIONS.gatePage}:`),
    actionListener(deps, 'page', async ({ action }, { user }) => {
      const parsed = parsePageValue(action.type === 'button' ? action.value : undefined);
      if (!parsed) throw new UserInputError('That page button does not name a deploy and a page.');
      await deps.gates.setPage(parsed.deployId, user, parsed.page);
    }),
  );

  app.action(
    ACTIONS.rerunChecks,
    actionListener(deps, 'rerun-checks', async (args, { user }) => {
      await deps.gates.rerunChecks(buttonDeployId(args), user);
    }),
  );

  app.action(
    ACTIONS.postDeploySignoff,
    actionListener(deps, 'post-deploy-signoff', async (args, { user }) => {
      await deps.gates.postDeploySignoff(buttonDeployId(args), user);
    }),
  );
}
