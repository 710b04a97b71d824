// /deploys [env]: every environment's current version, what runs or waits now, and the latest log entries.
import { deploysOverviewBlocks, type EnvOverview } from '../blocks/deploys-overview.js';
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/environments.js';
import { UserInputError } from '../src/errors/index.js';
import { commandListener } from './respond.js';

export async function deploysOverview(deps: Deps, only?: string): Promise<ReturnType<typeof deploysOverviewBlocks>> {
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

export function createDeploysCommand(deps: Deps) {
  return commandListener('/deploys', deps, async ({ command }) => {
    const word = command.text.trim().split(/\s+/).filter(Boolean);
    const usage = `Usage: \`/deploys [environment]\`. Environments: ${environmentNames(deps.config)}.`;
    if (word.length > 1) throw new UserInputError('`/deploys` takes at most one environment.', usage);
    const only = word[0] ? requireEnvironment(deps.config, word[0], usage).name : undefined;
    return { reply: await deploysOverview(deps, only) };
  });
}
