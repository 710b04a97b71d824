// Registers every slash command. SLASH_COMMANDS comes from the same table, and a test checks it
// against manifest.yml, so a command can't be registered without being declared (or the reverse).
import type { App } from '@slack/bolt';
import type { Deps } from '../src/deps.js';
import { createDeployCommand } from './deploy.js';
import { createDeploysCommand } from './deploys.js';
import { createRollbackCommand } from './rollback.js';
import { createShipmateCommand } from './shipmate.js';
import { createFlagCommand } from './flag.js';
import { createReleaseCommand } from './release.js';
import { createHotfixCommand } from './hotfix.js';
import { createMigrateCommand } from './migrate.js';
import type { SlashCommand } from './help.js';

const COMMANDS = {
  '/deploy': createDeployCommand,
  '/deploys': createDeploysCommand,
  '/rollback': createRollbackCommand,
  '/shipmate': createShipmateCommand,
  '/flag': createFlagCommand,
  '/release': createReleaseCommand,
  '/hotfix': createHotfixCommand,
  '/migrate': createMigrateCommand,
} as const satisfies Record<SlashCommand, unknown>; // every command has its help text, and the reverse

export const SLASH_COMMANDS = Object.keys(COMMANDS) as ReadonlyArray<keyof typeof COMMANDS>;

export function registerCommands(app: App, deps: Deps): void {
  for (const [name, create] of Object.entries(COMMANDS)) app.command(name, create(deps));
}
