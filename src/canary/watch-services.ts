// What a running canary/monitor needs from the rest of Shipmate, built per deploy step by the deploy job:
// asking people about an inconclusive pause (a message in the deploy's thread through the delivery path, one per
// pause) and queueing the environment's rollback job on a sustained breach (onBreach: rollback, one per step).
import { canaryAskBlocks } from '../../blocks/canary-status.js';
import type { Config, EnvironmentConfig, StepConfig } from '../core/config.js';
import type { Deps } from '../deps.js';
import type { WatchContext } from './watch.js';

/** Who an automatic rollback is requested by (shown as "Shipmate (canary)"). */
export const CANARY_USER = 'shipmate:canary';

type ServicesDeps = Pick<Deps, 'config' | 'store' | 'messenger' | 'deploys' | 'log'>;

/** Mentions for the people a pause asks: the step's askOnInconclusive, else the environment's deployers, else the requester. */
export function askMentions(config: Config, env: EnvironmentConfig, step: StepConfig | undefined, requester: string): string[] {
  const watch = step && ('canary' in step ? step.canary : 'monitor' in step ? step.monitor : undefined);
  const who = watch?.askOnInconclusive ?? env.deployers;
  const out = new Set<string>();
  for (const w of who) {
    if (/^[UW][A-Z0-9]+$/.test(w)) out.add(`<@${w}>`);
    const role = Object.hasOwn(config.roles, w) ? config.roles[w] : undefined;
    for (const g of role?.groups ?? []) out.add(`<!subteam^${g}>`);
    for (const u of role?.users ?? []) out.add(`<@${u}>`);
  }
  if (out.size === 0 && /^[UW][A-Z0-9]+$/.test(requester)) out.add(`<@${requester}>`);
  return [...out];
}

export function watchServices(deps: ServicesDeps, env: EnvironmentConfig, deployId: string, stepIndex: number, step: StepConfig | undefined): Pick<WatchContext, 'ask' | 'requestRollback'> {
  return {
    async ask(pause) {
      const record = await deps.store.get(deployId);
      if (!record) return;
      const kind = step && 'monitor' in step ? 'monitor' : 'canary';
      const message = canaryAskBlocks(record, { kind, reason: pause.reason, where: pause.where, mentions: askMentions(deps.config, env, step, record.requestedBy) });
      // One key per pause: asking again (a resumed run, a redelivered job) posts nothing new.
      await deps.messenger.postInThread(record, `canary-ask:${stepIndex}:${pause.at}`, message);
    },

    async requestRollback(reason) {
      const record = await deps.store.get(deployId);
      if (!record) return { ok: false, error: `deploy #${deployId} no longer exists` };
      // A rollback that breaches is not rolled back again (its own abort command, if any, has run).
      if (record.kind === 'rollback') return { ok: false, error: 'this deploy is a rollback already' };
      // The environment's state moves only on success: what it holds is the last good version, from before this deploy.
      const good = await deps.store.envState(env.name);
      if (!good) return { ok: false, error: `${env.name} has no earlier good version to go back to` };
      const resolved = good.sha ? { ref: good.ref, sha: good.sha, ...(good.tag ? { tag: good.tag } : {}) } : undefined;
      const res = await deps.deploys.request({
        env,
        ref: good.ref,
        ...(resolved ? { resolved } : {}),
        user: CANARY_USER,
        channel: record.channel,
        rollbackFrom: record.version,
        ...(record.sha ? { rollbackFromSha: record.sha } : {}),
        reason: `canary of deploy #${deployId} breached: ${reason}`.slice(0, 300),
        // One rollback per breached step, however often this is asked (a redelivered job, a resumed run).
        delivery: `canary-rollback-${deployId}-${stepIndex}`,
      });
      const rollback = res.existing ?? res.record;
      deps.log.info({ deployId, rollback: rollback.id, to: good.version, repeat: res.existing !== undefined }, 'canary breach: rollback job queued');
      return { ok: true, id: rollback.id, to: rollback.version, env: env.name };
    },
  };
}
