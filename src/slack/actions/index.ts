// Registers the listeners for buttons and other interactive components.
import type { App } from '@slack/bolt';
import { ACTIONS } from '../../../blocks/action-ids.js';
import type { Deps } from '../../deps.js';
import { registerHome } from '../home.js';
import { createCancelDeployAction } from './cancel-deploy.js';
import { registerGateActions } from './gates.js';

export function registerActions(app: App, deps: Deps): void {
  app.action(ACTIONS.cancelDeploy, createCancelDeployAction(deps));
  registerGateActions(app, deps);
  registerHome(app, deps);
}
