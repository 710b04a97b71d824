// /rollback <env> [version] [reason]: asks "Roll back production from v1.4.0 to v1.3.2?" privately; the answer's button
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
    const usage = `Usage: \`/rollback <environment> [version] [reason]\` — without a version, the previous good one; a reason without a version goes in quotes (\`/rollback prod "login 500s"\`); \`/rollback help\` for more. Environments: ${environmentNames(deps.config)}.`;
    const { envName, wanted, reason } = parseRollbackText(command.text, usage);
    const env = requireEnvironment(deps.config, envName, usage);
    if (wanted && refProblem(wanted)) throw new UserInputError(`\`${wanted.slice(0, 60).replace(/`/g, "'")}\` ${refProblem(wanted)}.`, usage);
    if (!(await deps.roles.mayDeploy(env, command.user_id))) {
      await audit(deps.redis, deps.prefix, { action: 'rollback.refused', user: command.user_id, env: env.name, detail: wanted });
      throw new NotAuthorizedError(`You may not roll back ${env.name}: that needs the ${env.deployers.map((r) => roleLabel(deps.config, r)).join(' or ')} role.`);
    }
    const plan = await planRollback(deps.store, env, wanted, usage);
    log.info({ env: env.name, to: plan.to, from: plan.from }, 'rollback asked for confirmation');
    return { reply: rollbackConfirmBlocks({ env: env.name, to: plan.to, ...(plan.from !== undefined ? { from: plan.from } : {}), ...(reason ? { reason } : {}), channel: command.channel_id, nonce: randomUUID() }, env) };
  }, { helpWhenEmpty: true });
}

const REASON_MAX = 300;

/**
 * `<env> [version] [reason]`: the second word is the version unless it opens a quote; everything after is the
 * reason (quotes optional), so `/rollback prod "login 500s"` and `/rollback prod v1.3.2 login 500s` both read.
 */
export function parseRollbackText(text: string, usage: string): { envName: string; wanted?: string; reason?: string } {
  const trimmed = text.trim().replace(/[“”]/g, '"');
  const m = /^(\S+)(?:\s+(?!")(\S+))?(?:\s+(.*))?$/s.exec(trimmed);
  if (!m?.[1]) throw new UserInputError('Which environment?', usage);
  const reason = (m[3] ?? '').trim().replace(/^"(.*)"$/s, '$1').trim();
  if (reason.length > REASON_MAX) throw new UserInputError(`The reason is ${reason.length} characters long; keep it under ${REASON_MAX}.`, usage);
  return { envName: m[1], ...(m[2] ? { wanted: m[2] } : {}), ...(reason ? { reason } : {}) };
}
