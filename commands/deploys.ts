// /deploys [env]: every environment's current version, what runs or waits now, and the latest log entries.
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { UserInputError } from '../src/core/errors.js';
import { deploysOverview } from '../src/slack/overview.js';
import { commandListener } from './respond.js';
import { deploysLog, deploysStats, words } from './deploys-insight.js';

export function createDeploysCommand(deps: Deps) {
  return commandListener('/deploys', deps, async (args) => {
    const { command } = args;
    const word = command.text.trim().split(/\s+/).filter(Boolean);
    // Insight's subcommands (commands/deploys-insight.ts).
    if (word[0] === 'stats') return deploysStats(deps, args, words(command.text).slice(1));
    if (word[0] === 'log') return deploysLog(deps, args, words(command.text).slice(1));
    const usage = `Usage: \`/deploys [environment]\`; \`/deploys help\` for more. Environments: ${environmentNames(deps.config)}.`;
    if (word.length > 1) throw new UserInputError('`/deploys` takes at most one environment.', usage);
    const only = word[0] ? requireEnvironment(deps.config, word[0], usage).name : undefined;
    return { reply: await deploysOverview(deps, only) };
  });
}
