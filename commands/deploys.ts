// /deploys [env]: every environment's current version, what runs or waits now, locks, and the latest log entries.
// /deploys lock <env> "reason" and /deploys unlock <env>: environment locks (src/deploys/locks.ts).
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { UserInputError } from '../src/core/errors.js';
import { deploysOverview } from '../src/slack/overview.js';
import { commandListener } from './respond.js';
import { windowsText } from '../src/schedule/schedule.js';
import { userTimeZone } from '../src/schedule/user-tz.js';

import { deploysLog, deploysStats, words } from './deploys-insight.js';

const REASON_MAX = 300;

export function createDeploysCommand(deps: Deps) {
  return commandListener('/deploys', deps, async (args, log) => {
    const { command } = args;
    const word = command.text.trim().split(/\s+/).filter(Boolean);
    // Insight's subcommands (commands/deploys-insight.ts).
    if (word[0] === 'stats') return deploysStats(deps, args, words(command.text).slice(1));
    if (word[0] === 'log') return deploysLog(deps, args, words(command.text).slice(1));
    const usage = `Usage: \`/deploys [environment]\`, \`/deploys lock <environment> "reason"\`, \`/deploys unlock <environment>\`; \`/deploys help\` for more. Environments: ${environmentNames(deps.config)}.`;
    if (word[0] === 'lock' || word[0] === 'unlock') {
      const what = word[0];
      if (!word[1]) throw new UserInputError(`Which environment do you want to ${what}?`, usage);
      const env = requireEnvironment(deps.config, word[1], usage);
      const reason = command.text.trim().replace(/^\S+\s+\S+\s*/, '').replace(/[“”]/g, '"').replace(/^"(.*)"$/s, '$1').trim();
      if (what === 'unlock') {
        if (reason) throw new UserInputError('`/deploys unlock` takes only an environment.', usage);
        await deps.deploys.locks.checkMayLock(env, command.user_id, 'unlock');
        const lifted = await deps.deploys.locks.unlock(env, command.user_id);
        log.info({ env: env.name }, 'unlocked');
        return { reply: `:unlock: Unlocked *${env.name}* (it was locked by <@${lifted.by}>). Deploys may go there again.` };
      }
      if (!reason) throw new UserInputError(`Say why ${env.name} is locked: \`/deploys lock ${env.name} "reason"\`.`, usage);
      if (reason.length > REASON_MAX) throw new UserInputError(`The reason is ${reason.length} characters long; keep it under ${REASON_MAX}.`, usage);
      await deps.deploys.locks.checkMayLock(env, command.user_id, 'lock');
      await deps.deploys.locks.lock(env, command.user_id, reason);
      log.info({ env: env.name }, 'locked');
      return { reply: `:lock: Locked *${env.name}*: deploys there are refused until someone runs \`/deploys unlock ${env.name}\`.` };
    }
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
