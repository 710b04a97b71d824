// Registers the listeners for buttons and other interactive components, behind one guard that refuses
// malformed or unknown payloads before any listener sees them.
import type { App } from '@slack/bolt';
import { ACTIONS } from '../../../blocks/action-ids.js';
import type { Deps } from '../../deps.js';
import { registerHome } from '../home.js';
import { registerCanaryActions } from './canary.js';
import { createCancelDeployAction } from './cancel-deploy.js';
import { createCancelFollowUpsAction } from './follow-ups.js';
import { FOLLOW_UPS_CANCEL } from '../../../blocks/notifications.js';
import { registerGateActions } from './gates.js';
import { payloadGuard } from './guard.js';
import { registerRollbackActions } from './rollback.js';
import { createLockWatchAction } from './lock-watch.js';
import { registerFlagActions } from './flags.js';
import { registerReleaseActions } from './releases.js';
import { registerLogPageActions } from './log-pages.js';

export function registerActions(app: App, deps: Deps): void {
  // Global middleware runs before every listener (slash commands included), whatever the registration order.
  app.use(payloadGuard(deps));
  app.action(ACTIONS.cancelDeploy, createCancelDeployAction(deps));
  app.action(FOLLOW_UPS_CANCEL, createCancelFollowUpsAction(deps));
  registerGateActions(app, deps);
  registerRollbackActions(app, deps);
  app.action(ACTIONS.lockWatch, createLockWatchAction(deps));
  registerCanaryActions(app, deps);
  registerFlagActions(app, deps);
  registerReleaseActions(app, deps);
  registerLogPageActions(app, deps);
  registerHome(app, deps);
}
