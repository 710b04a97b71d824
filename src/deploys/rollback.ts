// Which version a rollback puts back: the previous good one by default, or a named one that succeeded there.
// Shared by /rollback (to ask for confirmation) and the confirmation's button (to check again before acting).
import type { EnvironmentConfig } from '../core/config.js';
import { UserInputError } from '../core/errors.js';
import type { DeployStore } from './deploy-store.js';

export interface RollbackPlan {
  /** The version to put back. */
  to: string;
  /** What runs there now, if anything ever succeeded. */
  from?: string;
}

export async function planRollback(store: DeployStore, env: EnvironmentConfig, wanted: string | undefined, usage?: string): Promise<RollbackPlan> {
  const current = await store.envState(env.name);
  const good = [...new Set((await store.history(env.name)).map((h) => h.version))];
  const from = current?.version;
  if (wanted) {
    if (!good.includes(wanted)) {
      throw new UserInputError(`\`${wanted}\` never succeeded on ${env.name}, so it is not a known good version to roll back to.${good.length ? ` Versions that did: ${good.slice(0, 8).map((v) => `\`${v}\``).join(', ')}.` : ''}`, usage);
    }
    return { to: wanted, ...(from !== undefined ? { from } : {}) };
  }
  const to = good.find((v) => v !== from);
  if (!to) throw new UserInputError(`Nothing to roll back to: ${env.name} has no earlier good version than ${current ? `\`${current.version}\`` : 'what runs now'}. Name one with \`/rollback ${env.name} <version>\`.`);
  return { to, ...(from !== undefined ? { from } : {}) };
}
