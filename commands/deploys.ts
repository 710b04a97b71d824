// /deploys [env]: every environment's current version, what runs or waits now, and the latest log entries.
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { UserInputError } from '../src/core/errors.js';
import { deploysOverview } from '../src/slack/overview.js';
import { commandListener } from './respond.js';
import { windowsText } from '../src/schedule/schedule.js';
import { userTimeZone } from '../src/schedule/user-tz.js';

export function createDeploysCommand(deps: Deps) {
  return commandListener('/deploys', deps, async ({ command }) => {
    const word = command.text.trim().split(/\s+/).filter(Boolean);
    const usage = `Usage: \`/deploys [environment]\`; \`/deploys help\` for more. Environments: ${environmentNames(deps.config)}.`;
    // `/deploys windows [env]`: maintenance windows, freezes and release days ahead (src/schedule).
    if (word[0]?.toLowerCase() === 'windows') {
      const windowsUsage = `Usage: \`/deploys windows [environment]\`. Environments: ${environmentNames(deps.config)}.`;
      if (word.length > 2) throw new UserInputError('`/deploys windows` takes at most one environment.', windowsUsage);
      const env = word[1] ? requireEnvironment(deps.config, word[1], windowsUsage).name : undefined;
      return { reply: windowsText(deps.config, deps.now(), await userTimeZone(deps, command.user_id), env) };
    }
    if (word.length > 1) throw new UserInputError('`/deploys` takes at most one environment.', usage);
    const only = word[0] ? requireEnvironment(deps.config, word[0], usage).name : undefined;
    return { reply: await deploysOverview(deps, only) };
  });
}
