// Requesting and cancelling deploys: the part shared by slash commands, buttons and (later) automation.
import type { EnvironmentConfig } from '../core/config.js';
import { isFinal, type DeployRecord } from './deploy-store.js';
import type { ServiceDeps } from '../deps.js';
import { ConflictError, NotAuthorizedError } from '../core/errors.js';
import { hasGates, initialGates } from '../gates/gate-rules.js';

export interface DeployRequest {
  env: EnvironmentConfig;
  ref: string;
  user: string;
  channel: string;
  /** A rollback puts back a version that succeeded here before; it skips the gates (it is the way out). */
  rollbackFrom?: string;
  /** The requester marked the change sensitive: the environment's sensitiveRequires roles must approve too. */
  sensitive?: boolean;
}

export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

export class DeployService {
  constructor(private readonly d: ServiceDeps) {}

  /** Why `version` may not go to `env` yet (promotion rule), or undefined. */
  async promotionProblem(env: EnvironmentConfig, version: string): Promise<string | undefined> {
    const from = env.requires?.succeededOn;
    if (!from || (await this.d.store.hasSucceeded(from, version))) return undefined;
    return `\`${version}\` has not succeeded on *${from}* yet, and ${env.name} takes only versions that have. Deploy it there first: \`/deploy ${from} ${version}\`.`;
  }

  /**
   * Records the deploy. Without gates it goes straight into its environment's queue; with gates it waits
   * as 'pending' until they are met (GateService starts it). Returns it with its queue position (0 if pending).
   */
  async request(req: DeployRequest): Promise<{ record: DeployRecord; position: number }> {
    const id = await this.d.store.nextId();
    const at = this.d.now();
    const gated = hasGates(req.env) && req.rollbackFrom === undefined;
    const record = await this.d.store.create({
      id,
      env: req.env.name,
      ref: req.ref,
      version: req.ref,
      requestedBy: req.user,
      channel: req.channel,
      ...(req.rollbackFrom !== undefined ? { kind: 'rollback' as const, rollbackFrom: req.rollbackFrom } : {}),
      status: gated ? 'pending' : 'queued',
      createdAt: at,
      queuedAt: gated ? undefined : at,
      gates: gated ? initialGates(req.env, { sensitive: req.sensitive }) : undefined,
      steps: req.env.steps.map((s) => ({ name: s.name, kind: 'run' in s ? 'run' : 'http', status: 'pending' })),
    });
    if (gated) {
      if (req.env.checklist.some((section) => section.items.some((it) => it.check))) {
        await this.d.queues.scheduleGateJob({ kind: 'checks', deployId: id }, 0, `${id}-first`);
      }
      return { record, position: 0 };
    }
    await this.d.queues.enqueue(req.env.name, id);
    return { record, position: await this.d.messenger.position(record) };
  }

  /**
   * Cancels a deploy: a queued one leaves the queue at once; a running one is stopped (its command is
   * terminated and no further step runs). Only the requester or someone allowed to deploy there may.
   */
  async cancel(id: string, user: string): Promise<'cancelled' | 'stopping'> {
    const record = await this.d.store.get(id);
    if (!record) throw new ConflictError(`Deploy #${id} no longer exists.`);
    if (isFinal(record.status)) {
      throw new ConflictError(`Deploy #${id} has already ended (${record.status}); there is nothing to cancel.`);
    }
    const env = this.d.config.environments.find((e) => e.name === record.env);
    if (user !== record.requestedBy && !(env && (await this.d.roles.mayDeploy(env, user)))) {
      this.d.log.warn({ deployId: id, user }, 'cancel refused: not allowed');
      throw new NotAuthorizedError(`Only <@${record.requestedBy}> or someone allowed to deploy to ${record.env} can cancel deploy #${id}.`);
    }
    if (record.status === 'pending' || record.status === 'queued') {
      if (await this.d.queues.removeWaiting(record.env, id)) {
        const done = await this.d.store.update(id, (r) => {
          if (r.status !== 'pending' && r.status !== 'queued') return false;
          r.status = 'cancelled';
          r.cancelledBy = user;
          r.finishedAt = this.d.now();
          for (const s of r.steps) if (s.status === 'pending') s.status = 'skipped';
        });
        if (done.status === 'cancelled') {
          await this.d.messenger.sync(id);
          if (done.gates) await this.d.messenger.syncGate(id);
          await this.d.messenger.recordLog({
            deployId: id, env: done.env, version: done.version, ref: done.ref, deployedBy: done.requestedBy, kind: done.kind,
            status: 'cancelled', at: this.d.now(), notes: [`cancelled by <@${user}> before it started`, ...done.notes],
          });
          await this.d.messenger.syncEnvironment(done.env);
          this.d.log.info({ deployId: id, user }, 'deploy cancelled before it started');
          return 'cancelled';
        }
      }
    }
    // A worker holds it: ask every worker process to stop it; the worker also checks between steps.
    await this.d.store.update(id, (r) => {
      if (r.cancelRequestedBy) return false;
      r.cancelRequestedBy = user;
    });
    await this.d.redis.publish(cancelChannel(this.d.prefix), id);
    await this.d.messenger.sync(id);
    this.d.log.info({ deployId: id, user }, 'deploy stop requested');
    return 'stopping';
  }
}
