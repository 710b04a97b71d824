// Registers every slash command; SLASH_COMMANDS is checked against manifest.yml by a test.
import type { App } from '@slack/bolt';
import type { Deps } from '../src/deps.js';
import { createDeployCommand } from './deploy.js';
import { createDeploysCommand } from './deploys.js';
import { createRollbackCommand } from './rollback.js';

export const SLASH_COMMANDS = ['/deploy', '/deploys', '/rollback'] as const;

export function registerCommands(app: App, deps: Deps): void {
  app.command('/deploy', createDeployCommand(deps));
  app.command('/deploys', createDeploysCommand(deps));
  app.command('/rollback', createRollbackCommand(deps));
}
