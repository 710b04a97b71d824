// *Tell me when it's free* under a refusal from a locked environment: puts the person on the list that gets one DM
// when the lock is lifted (src/deploys/locks.ts). A second click (or a redelivery) adds nobody twice and says so.
import { UserInputError } from '../../core/errors.js';
import { findEnvironment } from '../../deploys/environments.js';
import type { Deps } from '../../deps.js';
import { actionListener } from './guard.js';

export function createLockWatchAction(deps: Deps) {
  return actionListener(deps, 'lock-watch', async ({ action }, { user, log, tell }) => {
    const env = findEnvironment(deps.config, action.type === 'button' ? (action.value ?? '') : '');
    if (!env) throw new UserInputError('That button does not name a configured environment.');
    if (!(await deps.deploys.locks.get(env.name))) {
      await tell(`${env.name} is not locked any more — go ahead.`);
      return;
    }
    const added = await deps.deploys.locks.watch(env.name, user);
    log.info({ env: env.name, added }, 'lock watch');
    await tell(added ? `:bell: I'll DM you once when ${env.name} is unlocked.` : `You're already on the list: I'll DM you once when ${env.name} is unlocked.`);
  });
}
