// The environment a step or an automatic check runs with. It is explicit, never Shipmate's whole
// environment: a step would otherwise see Shipmate's own Slack and GitHub credentials.
import type { Config } from '../core/config.js';
import type { DeployVars } from '../core/template.js';

/** What every command gets from Shipmate's environment when set: enough to find programs and behave. */
export const SAFE_BASE = ['PATH', 'HOME', 'LANG', 'TZ', 'USER', 'SHELL', 'TMPDIR'] as const;

/**
 * What every step and check starts from, built once at start-up from Shipmate's environment: the safe
 * base, the variables the config opts in with `passEnv`, and the config's `secrets` (which the steps
 * exist to use; they are masked wherever output goes). Nothing else, so SLACK_BOT_TOKEN,
 * SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and GITHUB_TOKEN only reach a step when the config names them.
 */
export function baseStepEnv(source: NodeJS.ProcessEnv, config: Pick<Config, 'secrets' | 'passEnv'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...SAFE_BASE, ...config.passEnv, ...config.secrets]) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** One step's (or check's) whole environment: the base, the deploy's SHIPMATE_* variables, then what the step sets. */
export function stepEnv(base: NodeJS.ProcessEnv, vars: DeployVars, own: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...base,
    SHIPMATE_ENV: vars.env,
    SHIPMATE_VERSION: vars.version,
    SHIPMATE_REF: vars.ref,
    SHIPMATE_USER: vars.user,
    SHIPMATE_DEPLOY_ID: vars.deployId,
    // Where versions are commits (a `repository` is configured).
    ...(vars.sha ? { SHIPMATE_SHA: vars.sha } : {}),
    ...(vars.previousSha ? { SHIPMATE_PREVIOUS_SHA: vars.previousSha } : {}),
    ...own,
  };
}
