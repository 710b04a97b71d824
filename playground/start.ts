// Playground mode (no Slack credentials): placeholder until the playground issue lands.
import type { Config } from '../src/config.js';
import type { EnvOptions } from '../src/env.js';
import type { Logger } from '../src/logger.js';

export async function startPlayground(_opts: { config: Config; redisUrl: string; options: EnvOptions; log: Logger; role: 'app' | 'worker' | 'all' }): Promise<() => Promise<void>> {
  throw new Error('Slack credentials are missing: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN).');
}
