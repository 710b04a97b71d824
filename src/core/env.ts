// Reads Shipmate's settings from the environment, once, at start-up (handlers never read process.env).
import { z } from 'zod';

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  REDIS_URL: z.string().optional(),
  SHIPMATE_CONFIG: z.string().default('shipmate.yml'),
  SHIPMATE_DATA_DIR: z.string().default('.data'),
  SHIPMATE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('shipmate'),
  /** How long a worker's lock on a running deploy lasts; a crashed worker's deploy is picked up after about this long. */
  SHIPMATE_WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** How long SIGTERM/SIGINT may take (workers hand deploys back, Redis stops) before the process exits anyway. */
  SHIPMATE_SHUTDOWN_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
  /** GitHub features (deployments, workflow steps, checks, auto-deploy) are on only with a token. */
  GITHUB_TOKEN: z.string().optional(),
  /** GitHub Enterprise Server's API, e.g. https://github.example.com/api/v3 (default: api.github.com). */
  GITHUB_API_URL: z.url().optional(),
  /** The secret of the webhook that calls POST /github/webhook (auto-deploy on merge). */
  GITHUB_WEBHOOK_SECRET: z.string().optional(),
  /** How often a followed workflow run is polled at first (backing off to 15 times this). */
  SHIPMATE_GITHUB_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(2_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type EnvOptions = z.infer<typeof envSchema>;

export function readEnvOptions(env: NodeJS.ProcessEnv = process.env): EnvOptions {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new Error(`Invalid environment:\n${result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return result.data;
}

export function parseRole(argv: readonly string[]): 'app' | 'worker' | 'all' {
  const i = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (i < 0) return 'all';
  const value = argv[i]?.includes('=') ? argv[i]?.split('=')[1] : argv[i + 1];
  if (value === 'app' || value === 'worker' || value === 'all') return value;
  throw new Error(`--role must be app, worker or all (got ${value ?? 'nothing'})`);
}
