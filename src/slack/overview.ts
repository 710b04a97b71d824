// The environments overview shared by `/deploys` and the App Home tab: current version, what runs or
// waits, and the latest deployment-log entries.
import { deploysOverviewBlocks, type EnvOverview } from '../../blocks/deploys-overview.js';
import type { Deps } from '../deps.js';

export async function deploysOverview(deps: Pick<Deps, 'config' | 'store'>, only?: string): Promise<ReturnType<typeof deploysOverviewBlocks>> {
  const envs = deps.config.environments.filter((e) => !only || e.name === only);
  const active = await deps.store.active();
  const overview: EnvOverview[] = await Promise.all(
    envs.map(async (e) => ({
      name: e.name,
      aliases: e.aliases,
      current: await deps.store.envState(e.name),
      active: active.filter((d) => d.env === e.name),
    })),
  );
  return deploysOverviewBlocks(overview, await deps.store.recentLog(10, only));
}
