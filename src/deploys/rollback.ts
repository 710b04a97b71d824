// Which version a rollback puts back: the previous good one by default, or a named one that succeeded there.
// Where versions are commits, "good" means a commit that succeeded there: the rollback redeploys that exact SHA,
// whatever its branch points at now. Shared by /rollback (to ask for confirmation) and the confirmation's
// button (to check again before acting).
import { versionLabel } from '../../blocks/format.js';
import type { EnvironmentConfig } from '../core/config.js';
import { UserInputError } from '../core/errors.js';
import { SHA_RE } from '../versions/resolver.js';
import type { DeployStore, EnvState } from './deploy-store.js';

export interface RollbackPlan {
  /** The version to put back, as shown: "v1.3.2 (abc1234)". */
  to: string;
  /** What runs there now, as shown, if anything ever succeeded. */
  from?: string;
  /** The good deploy whose version (and commit) is put back. */
  target: Pick<EnvState, 'version' | 'ref' | 'sha' | 'tag'>;
  /** The version running now (its name), for the rollback's record. */
  fromVersion?: string;
  /** Its commit, where versions are commits ({{rollbackFromSha}} in rollback steps). */
  fromSha?: string;
}

/** One entry per good version: its commit where versions are commits, else its name. */
const identity = (s: Pick<EnvState, 'version' | 'sha'>) => s.sha ?? `name:${s.version}`;

/** Whether `wanted` names this good deploy: its version, ref, tag, label, or (7+ hex) a prefix of its SHA. */
function names(s: EnvState, wanted: string): boolean {
  if ([s.version, s.ref, s.tag, versionLabel(s)].includes(wanted)) return true;
  return Boolean(s.sha && SHA_RE.test(wanted) && s.sha.toLowerCase().startsWith(wanted.toLowerCase()));
}

export async function planRollback(store: DeployStore, env: EnvironmentConfig, wanted: string | undefined, usage?: string): Promise<RollbackPlan> {
  const current = await store.envState(env.name);
  const seen = new Set<string>();
  const good = (await store.history(env.name)).filter((h) => !seen.has(identity(h)) && seen.add(identity(h)));
  const now = current ? { from: versionLabel(current), fromVersion: current.version, ...(current.sha ? { fromSha: current.sha } : {}) } : {};
  const plan = (target: EnvState): RollbackPlan => ({ to: versionLabel(target), target: { version: target.version, ref: target.ref, ...(target.sha ? { sha: target.sha } : {}), ...(target.tag ? { tag: target.tag } : {}) }, ...now });
  if (wanted) {
    const found = good.find((h) => names(h, wanted));
    if (!found) {
      throw new UserInputError(`\`${wanted}\` never succeeded on ${env.name}, so it is not a known good version to roll back to.${good.length ? ` Versions that did: ${good.slice(0, 8).map((v) => `\`${versionLabel(v)}\``).join(', ')}.` : ''}`, usage);
    }
    return plan(found);
  }
  const to = good.find((h) => !current || identity(h) !== identity(current));
  if (!to) throw new UserInputError(`Nothing to roll back to: ${env.name} has no earlier good version than ${current ? `\`${versionLabel(current)}\`` : 'what runs now'}. Name one with \`/rollback ${env.name} <version>\`.`);
  return plan(to);
}
