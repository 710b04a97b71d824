// The Cancel/Stop button on a deploy's status message (queued or running deploys). The service checks who
// may and audits what took effect; a refusal or a late click gets a private reply.
import { parseDeployId } from '../../../blocks/action-ids.js';
import type { Deps } from '../../deps.js';
import { UserInputError } from '../../core/errors.js';
import { actionListener } from './guard.js';

export function createCancelDeployAction(deps: Deps) {
  return actionListener(deps, 'cancel', async ({ action }, { user, log }) => {
    const deployId = parseDeployId(action.type === 'button' ? action.value : undefined);
    if (!deployId) throw new UserInputError('That Cancel button does not name a deploy; use the one on the deploy’s latest status message.');
    const result = await deps.deploys.cancel(deployId, user);
    log.info({ deployId, result }, 'cancel handled');
  });
}
