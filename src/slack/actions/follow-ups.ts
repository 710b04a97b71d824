// "Cancel follow-ups" on a follow-up message: removes the deploy's reminders not posted yet. Anyone in the
// channel may (they are the team's reminders); who did is audited and told privately.
import { parseDeployId } from '../../../blocks/action-ids.js';
import { plural } from '../../../blocks/format.js';
import type { Deps } from '../../deps.js';
import { UserInputError } from '../../core/errors.js';
import { actionListener } from './guard.js';

export function createCancelFollowUpsAction(deps: Deps) {
  return actionListener(deps, 'cancel-follow-ups', async ({ action }, { user, log, tell }) => {
    const deployId = parseDeployId(action.type === 'button' ? action.value : undefined);
    if (!deployId) throw new UserInputError('That button does not name a deploy.');
    const removed = await deps.notifier.cancelFollowUps(deployId, user);
    log.info({ deployId, removed }, 'follow-ups cancelled');
    await tell(removed ? `:white_check_mark: Cancelled ${plural(removed, 'follow-up')} of deploy #${deployId}.` : `Deploy #${deployId} has no follow-ups left to cancel.`);
  });
}
