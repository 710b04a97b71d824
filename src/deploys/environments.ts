// Finds an environment by name or alias, and suggests the nearest one when a name is wrong.
import { distance } from 'fastest-levenshtein';
import type { Config, EnvironmentConfig } from '../core/config.js';
import { UserInputError } from '../core/errors.js';

export function findEnvironment(config: Config, name: string): EnvironmentConfig | undefined {
  const wanted = name.toLowerCase();
  return config.environments.find((e) => e.name === wanted || e.aliases.includes(wanted));
}

/** The environment whose name or alias is closest to what was typed (prefix matches win). */
export function nearestEnvironment(config: Config, typed: string): EnvironmentConfig | undefined {
  const wanted = typed.toLowerCase();
  let best: { env: EnvironmentConfig; score: number } | undefined;
  for (const env of config.environments) {
    for (const name of [env.name, ...env.aliases]) {
      const score = name.startsWith(wanted) || wanted.startsWith(name) ? 0 : distance(name, wanted);
      if (!best || score < best.score) best = { env, score };
    }
  }
  if (!best) return undefined;
  return best.score <= Math.max(2, Math.floor(wanted.length / 2)) ? best.env : undefined;
}

/** The environment a command names, or a UserInputError that suggests the nearest one and shows the usage. */
export function requireEnvironment(config: Config, name: string, usage: string): EnvironmentConfig {
  const env = findEnvironment(config, name);
  if (env) return env;
  const near = nearestEnvironment(config, name);
  throw new UserInputError(`There is no environment \`${name.slice(0, 40)}\`.${near ? ` Did you mean \`${near.name}\`?` : ''}`, usage);
}

export function environmentNames(config: Config): string {
  return config.environments.map((e) => (e.aliases.length ? `${e.name} (${e.aliases.join(', ')})` : e.name)).join(', ');
}
