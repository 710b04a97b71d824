// /deploys [env]: every environment's current version, what runs or waits now, and the latest log entries.
import { deploysOverviewBlocks, type EnvOverview } from '../blocks/deploys-overview.js';
import type { Deps } from '../src/deps.js';
import { environmentNames, findEnvironment, nearestEnvironment } from '../src/environments.js';
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
    if (word.length > 1) throw new UserInputError('`/deploys` takes at most one environment.', `Usage: \`/deploys [environment]\`. Environments: ${environmentNames(deps.config)}.`);
    let only: string | undefined;
    if (word[0]) {
      const env = findEnvironment(deps.config, word[0]);
      if (!env) {
        const near = nearestEnvironment(deps.config, word[0]);
        throw new UserInputError(`There is no environment \`${word[0].slice(0, 40)}\`.${near ? ` Did you mean \`${near.name}\`?` : ''}`, `Usage: \`/deploys [environment]\`. Environments: ${environmentNames(deps.config)}.`);
      }
      only = env.name;
    }
    return { reply: await deploysOverview(deps, only) };
  });
}
