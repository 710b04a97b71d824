// Promote now / Pause / Resume / Abort on a running canary or monitor. Only the environment's deployers
// may (everyone where it names none), and the people a pause asks (askOnInconclusive) may Resume or Abort; refusals
// and what took effect are audited. The click is written to the record (StepState.watchRequest) in one audited
// write; a parked watch is woken for it (jobs/queues.ts wake).
import type { App } from '@slack/bolt';
import { parseDeployId } from '../../../blocks/action-ids.js';
import { CANARY_ACTIONS } from '../../../blocks/canary-status.js';
import { audit, isFinal } from '../../deploys/deploy-store.js';
import type { WatchAction } from '../../canary/watch-state.js';
import type { Deps } from '../../deps.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../../core/errors.js';
import { actionListener } from './guard.js';
import type { EnvironmentConfig } from '../../core/config.js';
import { stepsFor } from '../../deploys/change-steps.js';
import type { ChangeKind } from '../../deploys/deploy-store.js';

/** The people an inconclusive pause asks (askOnInconclusive) may answer it too: Resume or Abort, not Promote or Pause. */
async function isAsked(deps: Deps, env: EnvironmentConfig, kind: ChangeKind | undefined, user: string, action: WatchAction): Promise<boolean> {
  if (action !== 'resume' && action !== 'abort') return false;
  const asked = stepsFor(env, { kind }).flatMap((s) => ('canary' in s ? (s.canary.askOnInconclusive ?? []) : 'monitor' in s ? (s.monitor.askOnInconclusive ?? []) : []));
  if (asked.includes(user)) return true;
  const roles = asked.filter((w) => Object.hasOwn(deps.config.roles, w));
  return roles.length > 0 && (await deps.roles.hasAnyRole(user, roles));
}

export function registerCanaryActions(app: App, deps: Deps): void {
  for (const action of Object.keys(CANARY_ACTIONS) as WatchAction[]) app.action(CANARY_ACTIONS[action], createCanaryAction(deps, action));
}

export function createCanaryAction(deps: Deps, action: WatchAction) {
  return actionListener(deps, `canary.${action}`, async ({ action: a }, { user, log }) => {
    const deployId = parseDeployId(a.type === 'button' ? a.value : undefined);
    if (!deployId) throw new UserInputError('That button does not name a deploy; use the one on the deploy’s latest status message.');
    const record = await deps.store.get(deployId);
    if (!record) throw new ConflictError(`Deploy #${deployId} no longer exists.`);
    const env = deps.config.environments.find((e) => e.name === record.env);
    if (!env || !((await deps.roles.mayDeploy(env, user)) || (await isAsked(deps, env, record.kind, user, action)))) {
      await audit(deps.redis, deps.prefix, { action: `canary.${action}-refused`, user, deployId, env: record.env }, deps.now());
      throw new NotAuthorizedError(`Only people allowed to deploy to ${record.env} can ${action} its canary.`);
    }
    let applied = false;
    const after = await deps.store.update(
      deployId,
      (r) => {
        applied = false;
        const step = r.steps.find((s) => s.status === 'running' && s.watch && !s.watch.ended);
        if (isFinal(r.status) || !step?.watch) return false;
        if (step.watchRequest?.action === 'abort') return false; // an abort on its way is not overridden
        if (action === 'resume' && !step.watch.paused) return false;
        if (action === 'pause' && step.watch.paused) return false;
        step.watchRequest = { action, by: user, at: deps.now() };
        applied = true;
      },
      { audit: (next) => (applied ? [{ action: `canary.${action}`, user, deployId, env: next.env }] : []) },
    );
    const pendingAbort = after.steps.some((s) => s.watchRequest?.action === 'abort');
    if (!applied) throw new ConflictError(isFinal(after.status) ? `Deploy #${deployId} has already ended (${after.status}).` : pendingAbort ? 'An abort of this canary is already under way.' : action === 'resume' ? 'The canary is not paused.' : action === 'pause' ? 'The canary is already paused.' : `Deploy #${deployId} has no canary or monitor running now.`);
    log.info({ deployId, action }, 'canary request recorded');
    // A watch parked between evaluations takes the click up now, not at its next evaluation.
    await deps.queues.wake(deployId);
    await deps.messenger.sync(deployId);
  });
}
