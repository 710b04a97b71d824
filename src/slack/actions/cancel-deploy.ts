// The Cancel/Stop button on a deploy's status message.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { audit } from '../../deploys/deploy-store.js';
import type { Deps } from '../../deps.js';
import { replyForError } from '../../core/errors.js';

export function createCancelDeployAction(deps: Deps) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const deployId = action.value ?? '';
    const log = deps.log.child({ action: 'cancel', user, deployId });
    try {
      const result = await deps.deploys.cancel(deployId, user);
      await audit(deps.redis, deps.prefix, { action: result === 'cancelled' ? 'deploy.cancelled' : 'deploy.stop-requested', user, deployId });
      log.info({ result }, 'cancel handled');
    } catch (err) {
      await audit(deps.redis, deps.prefix, { action: 'deploy.cancel-refused', user, deployId, detail: (err as Error).message });
      await respond({ response_type: 'ephemeral', replace_original: false, text: replyForError(err) });
    }
  };
}
