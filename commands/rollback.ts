// /rollback <env> [version]: puts back the previous good version (or a named one that succeeded there before).
import type { Deps } from '../src/deps.js';
import { audit } from '../src/deploys/deploy-store.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { NotAuthorizedError, UserInputError } from '../src/core/errors.js';
import { refProblem } from '../src/core/refs.js';
import { roleLabel } from '../src/core/config.js';
import { queuePlace } from '../blocks/format.js';
import { existingDeployReply } from './deploy.js';
import { commandListener } from './respond.js';

export function createRollbackCommand(deps: Deps) {
  return commandListener('/rollback', deps, async ({ command }, log, signal) => {
    const usage = `Usage: \`/rollback <environment> [version]\` — without a version, the previous good one; \`/rollback help\` for more. Environments: ${environmentNames(deps.config)}.`;
    const words = command.text.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) throw new UserInputError('Which environment?', usage);
    if (words.length > 2) throw new UserInputError('Too many words: give an environment and at most one version.', usage);
    const [envName = '', wanted] = words;
    const env = requireEnvironment(deps.config, envName, usage);
    if (wanted && refProblem(wanted)) throw new UserInputError(`\`${wanted.slice(0, 60).replace(/`/g, "'")}\` ${refProblem(wanted)}.`, usage);
    if (!(await deps.roles.mayDeploy(env, command.user_id))) {
      await audit(deps.redis, deps.prefix, { action: 'rollback.refused', user: command.user_id, env: env.name });
      throw new NotAuthorizedError(`You may not roll back ${env.name}: that needs the ${env.deployers.map((r) => roleLabel(deps.config, r)).join(' or ')} role.`);
    }
    const current = await deps.store.envState(env.name);
    const history = await deps.store.history(env.name);
    const good = [...new Set(history.map((h) => h.version))];
    let target: string | undefined;
    if (wanted) {
      if (!good.includes(wanted)) {
        throw new UserInputError(`\`${wanted}\` never succeeded on ${env.name}, so it is not a known good version to roll back to.${good.length ? ` Versions that did: ${good.slice(0, 8).map((v) => `\`${v}\``).join(', ')}.` : ''}`, usage);
      }
      target = wanted;
    } else {
      target = good.find((v) => v !== current?.version);
      if (!target) throw new UserInputError(`Nothing to roll back to: ${env.name} has no earlier good version than ${current ? `\`${current.version}\`` : 'what runs now'}. Name one with \`/rollback ${env.name} <version>\`.`);
    }
    const outcome = await deps.deploys.request({ env, ref: target, user: command.user_id, channel: command.channel_id, rollbackFrom: current?.version, delivery: command.trigger_id, signal });
    if (outcome.existing) return { reply: existingDeployReply(outcome.existing, outcome.reason, command.team_domain) };
    const { record, position } = outcome;
    log.info({ deployId: record.id, env: env.name, target, from: current?.version }, 'rollback queued');
    return {
      reply: `Rolling ${env.name} back to \`${target}\`${current ? ` (from \`${current.version}\`)` : ''} — rollback #${record.id}; ${queuePlace(position, env.name)}. It skips the gates and runs ${env.name}'s steps with \`${target}\`.`,
      after: () => deps.messenger.sync(record.id),
    };
  }, { helpWhenEmpty: true });
}
