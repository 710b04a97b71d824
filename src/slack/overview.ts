// The environments overview shared by `/deploys` and the App Home tab: current version (and commit), how far
// an environment's commit is from the one it is promoted from, what runs or waits, and the latest log entries.
import { deploysOverviewBlocks, type EnvOverview } from '../../blocks/deploys-overview.js';
import type { Deps } from '../deps.js';

/** How long `/deploys` waits for git to count commits between two environments (it runs inside the ack). */
const DISTANCE_WAIT_MS = 300;

export async function deploysOverview(deps: Pick<Deps, 'config' | 'store' | 'versions' | 'deploys'>, only?: string, schedule?: (env: string) => string | undefined): Promise<ReturnType<typeof deploysOverviewBlocks>> {
  const envs = deps.config.environments.filter((e) => !only || e.name === only);
  const active = await deps.store.active();
  const locks = await deps.deploys.locks.all();
  const overview: EnvOverview[] = await Promise.all(
    envs.map(async (e) => {
      const current = await deps.store.envState(e.name);
      const lock = locks.get(e.name);
      const when = schedule?.(e.name);
      return { name: e.name, aliases: e.aliases, current, ...(lock ? { lock } : {}), ...(when ? { schedule: when } : {}), active: active.filter((d) => d.env === e.name), apart: await apart(deps, e.name, e.requires?.succeededOn, current?.sha) };
    }),
  );
  return deploysOverviewBlocks(overview, await deps.store.recentLog(10, only));
}

/** How far the environment a version is promoted from is ahead of this one, when both run commits of one repository. */
async function apart(deps: Pick<Deps, 'store' | 'versions'>, env: string, from: string | undefined, sha: string | undefined): Promise<EnvOverview['apart']> {
  if (!from || !sha) return undefined;
  const fromSha = (await deps.store.envState(from))?.sha;
  const repo = deps.versions.repository(env);
  if (!fromSha || !repo || deps.versions.repository(from)?.gitUrl !== repo.gitUrl) return undefined;
  const d = await deps.versions.distance(env, fromSha, sha, DISTANCE_WAIT_MS);
  return d ? { from, ...d } : undefined;
}
