// Registers the listeners for buttons and other interactive components.
import type { App } from '@slack/bolt';
import { ACTIONS } from '../../blocks/action-ids.js';
import type { Deps } from '../deps.js';
import { createCancelDeployAction } from './cancel-deploy.js';

export function registerActions(app: App, deps: Deps): void {
  app.action(ACTIONS.cancelDeploy, createCancelDeployAction(deps));
}
