// Which GitHub features the config asks for, and the start-up warnings when they cannot work (no token, no
// owner/name repository, no webhook secret), so nobody waits for something that is plainly off.
import type { Config } from '../core/config.js';
import { GITHUB_OFF, parseRepository, type GithubSettings } from './client.js';

/** The config's GitHub features, by where they are configured. */
export function githubFeatures(config: Config): string[] {
  const out: string[] = [];
  for (const env of config.environments) {
    if (env.githubDeployment) out.push(`environments.${env.name}.githubDeployment`);
    env.steps.forEach((s) => 'workflow' in s && out.push(`environments.${env.name}.steps “${s.name}” (github-workflow)`));
    for (const section of env.checklist) for (const item of section.items) if (item.check && 'github' in item.check) out.push(`environments.${env.name}.checklist ${item.id} (github check)`);
  }
  if (config.autoDeploy.length) out.push('autoDeploy');
  return out;
}

export function githubConfigWarnings(config: Config, settings: GithubSettings, clientBuilt: boolean): string[] {
  const features = githubFeatures(config);
  const warnings: string[] = [];
  const needClient = features.filter((f) => f !== 'autoDeploy');
  if (needClient.length && !clientBuilt) {
    const why = !settings.token ? GITHUB_OFF : `GitHub features are off: \`repository\` must be owner/name on GitHub (it is ${config.repository ? `"${config.repository}"` : 'not set'}).`;
    warnings.push(`${why} Configured but off: ${needClient.join(', ')}.`);
  }
  if (config.autoDeploy.length && !settings.webhookSecret) warnings.push('autoDeploy is configured but GITHUB_WEBHOOK_SECRET is not set: POST /github/webhook refuses every delivery until it is.');
  const repository = typeof config.repository === 'string' ? config.repository : config.repository?.url;
  if (repository && !parseRepository(repository) && needClient.length) warnings.push(`repository "${repository}" is not owner/name on GitHub, so GitHub features cannot use it.`);
  return warnings;
}
