// /rollback <env> [version]: asks "Roll back production from v1.4.0 to v1.3.2?" privately; the answer's button
// (src/slack/actions/rollback.ts) does it. Only the environment's deployers may; refusals are audited.
import { randomUUID } from 'node:crypto';
import { rollbackConfirmBlocks } from '../blocks/rollback-confirm.js';
import type { Deps } from '../src/deps.js';
import { audit } from '../src/deploys/deploy-store.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { planRollback } from '../src/deploys/rollback.js';
import { NotAuthorizedError, UserInputError } from '../src/core/errors.js';
import { refProblem } from '../src/core/refs.js';
import { roleLabel } from '../src/core/config.js';
import { commandListener } from './respond.js';

export function createRollbackCommand(deps: Deps) {
  return commandListener('/rollback', deps, async ({ command }, log) => {
    const usage = `Usage: \`/rollback <environment> [version]\` — without a version, the previous good one; \`/rollback help\` for more. Environments: ${environmentNames(deps.config)}.`;
    const words = command.text.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) throw new UserInputError('Which environment?', usage);
    if (words.length > 2) throw new UserInputError('Too many words: give an environment and at most one version.', usage);
    const [envName = '', wanted] = words;
    const env = requireEnvironment(deps.config, envName, usage);
    if (wanted && refProblem(wanted)) throw new UserInputError(`\`${wanted.slice(0, 60).replace(/`/g, "'")}\` ${refProblem(wanted)}.`, usage);
    if (!(await deps.roles.mayDeploy(env, command.user_id))) {
      await audit(deps.redis, deps.prefix, { action: 'rollback.refused', user: command.user_id, env: env.name, detail: wanted });
      throw new NotAuthorizedError(`You may not roll back ${env.name}: that needs the ${env.deployers.map((r) => roleLabel(deps.config, r)).join(' or ')} role.`);
    }
    const plan = await planRollback(deps.store, env, wanted, usage);
    log.info({ env: env.name, to: plan.to, from: plan.from }, 'rollback asked for confirmation');
    return { reply: rollbackConfirmBlocks({ env: env.name, to: plan.to, ...(plan.from !== undefined ? { from: plan.from } : {}), channel: command.channel_id, nonce: randomUUID() }) };
  }, { helpWhenEmpty: true });
}
