// Puts a deploy that has left its gates (or had none) into its environment's queue. Where the environment asks
// for a notice ahead (`notifications.ahead`), the job is delayed by that long, the record says when it starts,
// and the stakeholders are told then and there; a rollback never waits (it is the fix).
import type { ServiceDeps } from '../deps.js';
import type { DeployRecord } from './deploy-store.js';

export async function enqueueDeploy(d: Pick<ServiceDeps, 'config' | 'queues' | 'store' | 'now'>, record: DeployRecord): Promise<DeployRecord> {
  const env = d.config.environments.find((e) => e.name === record.env);
  const ahead = record.kind === 'rollback' ? undefined : env?.notifications.ahead;
  if (!ahead) {
    // A rollback goes to the head of the line (it is the fix); see DeployQueues.enqueue.
    await d.queues.enqueue(record.env, record.id, { jump: record.kind === 'rollback' });
    return record;
  }
  // The start time is written before the job exists, so nothing can start the deploy before it is shown.
  const startsAt = record.startsAt ?? d.now() + ahead;
  const updated = record.startsAt ? record : await d.store.update(record.id, (r) => {
    if (r.startsAt) return false;
    r.startsAt = startsAt;
  });
  await d.queues.enqueue(record.env, record.id, { delayMs: Math.max(0, (updated.startsAt ?? startsAt) - d.now()) });
  return updated;
}
