// The buttons under /rollback's question. [Roll back] checks again (who clicks, what runs now, that the target
// is still a good version), then requests the rollback once per question, however often it is clicked; [Keep]
// says nothing changed. Either answer replaces the question.
import type { App } from '@slack/bolt';
import { ACTIONS, parseRollbackValue, type RollbackChoice } from '../../../blocks/action-ids.js';
import { rollbackPlace, rollbackQuestion, rollbackStepsWords } from '../../../blocks/rollback-confirm.js';
import { roleLabel } from '../../core/config.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../../core/errors.js';
import { audit } from '../../deploys/deploy-store.js';
import { findEnvironment } from '../../deploys/environments.js';
import { planRollback } from '../../deploys/rollback.js';
import type { Deps } from '../../deps.js';
import { actionListener, type ActionArgs } from './guard.js';

/** A question's answer stays valid this long; after that the button says to ask again. */
const CONFIRM_TTL_S = 60 * 60;

function choiceOf(args: ActionArgs): RollbackChoice {
  const choice = args.action.type === 'button' ? parseRollbackValue(args.action.value) : undefined;
  if (!choice) throw new UserInputError('That rollback button does not say what to roll back. Run `/rollback` again.');
  return choice;
}

/** Replaces the question with the answer when Slack gave us its response_url, else tells the person privately. */
async function answer(args: ActionArgs, tell: (text: string) => Promise<void>, text: string): Promise<void> {
  if (args.body.response_url) await args.respond({ replace_original: true, text });
  else await tell(text);
}

export function registerRollbackActions(app: App, deps: Deps): void {
  app.action(
    ACTIONS.rollbackConfirm,
    actionListener(deps, 'rollback-confirm', async (args, { user, log, tell }) => {
      const choice = choiceOf(args);
      const env = findEnvironment(deps.config, choice.env);
      if (!env) throw new ConflictError(`Environment ${choice.env} is no longer configured; nothing was rolled back.`);
      if (!(await deps.roles.mayDeploy(env, user))) {
        await audit(deps.redis, deps.prefix, { action: 'rollback.refused', user, env: env.name, detail: `${choice.from ?? '?'} -> ${choice.to}` });
        throw new NotAuthorizedError(`You may not roll back ${env.name}: that needs the ${env.deployers.map((r) => roleLabel(deps.config, r)).join(' or ')} role.`);
      }
      const plan = await planRollback(deps.store, env, choice.to);
      if (plan.from !== choice.from) {
        throw new ConflictError(`${env.name} changed since you asked: it runs \`${plan.from ?? 'nothing'}\` now, not \`${choice.from ?? 'nothing'}\`. Nothing was rolled back; run \`/rollback ${env.name}\` again.`);
      }
      // One rollback per question: the first click claims it; a double click or a second copy is told which one runs.
      const key = `${deps.prefix}:rollback-confirm:${choice.nonce}`;
      if ((await deps.redis.set(key, 'claimed', 'EX', CONFIRM_TTL_S, 'NX')) !== 'OK') {
        const earlier = await deps.redis.get(key);
        throw new ConflictError(`You already confirmed this rollback${earlier && earlier !== 'claimed' ? `: rollback #${earlier}` : ''}.`);
      }
      let requested;
      try {
        // The click's own id is the delivery key: Slack redelivering this click has one effect.
        // Where versions are commits the good deploy's own SHA goes back, not whatever its branch points at now.
        const { target } = plan;
        const resolved = target.sha ? { ref: target.ref, sha: target.sha, ...(target.tag ? { tag: target.tag } : {}) } : undefined;
        requested = await deps.deploys.request({ env, ref: target.ref, ...(resolved ? { resolved } : {}), user, channel: choice.channel, rollbackFrom: plan.fromVersion, ...(plan.fromSha ? { rollbackFromSha: plan.fromSha } : {}), ...(choice.reason ? { reason: choice.reason } : {}), delivery: `rollback-confirm-${choice.nonce}` });
      } catch (err) {
        await deps.redis.del(key);
        throw err;
      }
      if (requested.existing) {
        await deps.redis.set(key, requested.existing.id, 'EX', CONFIRM_TTL_S);
        throw new ConflictError(`Already requested: rollback #${requested.existing.id} of ${env.name} to \`${requested.existing.version}\` is ${requested.existing.status}; nothing new was queued.`);
      }
      const { record, position } = requested;
      await deps.redis.set(key, record.id, 'EX', CONFIRM_TTL_S);
      log.info({ deployId: record.id, env: env.name, to: plan.to, from: plan.from }, 'rollback queued');
      await answer(args, tell, `Rolling ${env.name} back to \`${plan.to}\`${plan.from ? ` (from \`${plan.from}\`)` : ''} — rollback #${record.id}; ${rollbackPlace(position, env.name)}. It skips the gates and runs ${rollbackStepsWords(env, plan.to)}. Once it succeeds ${env.name} stays locked until someone runs \`/deploys unlock ${env.name}\`.`);
      await deps.messenger.sync(record.id);
    }),
  );

  app.action(
    ACTIONS.rollbackKeep,
    actionListener(deps, 'rollback-keep', async (args, { tell }) => {
      const choice = choiceOf(args);
      await answer(args, tell, `Kept — nothing was rolled back. (${rollbackQuestion(choice)} No.)`);
    }),
  );
}
