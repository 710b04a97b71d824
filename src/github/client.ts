// The one GitHub client: Octokit with the retry plugin (5xx and network errors) and the throttling plugin
// (primary and secondary rate limits wait out Retry-After / X-RateLimit-Reset), built once in app.ts from
// GITHUB_TOKEN and GITHUB_API_URL. Without a token there is no client and every GitHub feature says so.
import { retry } from '@octokit/plugin-retry';
import { throttling, type ThrottlingOptions } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Logger } from '../core/logger.js';

const GithubOctokit = Octokit.plugin(retry, throttling);
export type GithubOctokit = InstanceType<typeof GithubOctokit>;

export interface GithubSettings {
  token?: string;
  /** GitHub Enterprise Server: https://github.example.com/api/v3. Defaults to api.github.com. */
  apiUrl?: string;
  /** Secret of the webhook that POSTs to /github/webhook (X-Hub-Signature-256). */
  webhookSecret?: string;
  /** Tests shorten the waits: ms per second of Retry-After, and the workflow run poll interval. */
  retryAfterBaseValue?: number;
  pollMs?: { min: number; max: number };
  /**
   * The throttling plugin's limiter for writes (GitHub asks for one second between them); tests pass a faster
   * Bottleneck group so a deploy's few writes do not take seconds.
   */
  writeLimiter?: NonNullable<ThrottlingOptions>['write'];
}

export interface GithubClient {
  octokit: GithubOctokit;
  owner: string;
  repo: string;
  pollMs: { min: number; max: number };
}

/** Said wherever a GitHub feature is configured but cannot work. */
export const GITHUB_OFF = 'GitHub features are off: Shipmate has no GITHUB_TOKEN. Set GITHUB_TOKEN (and GITHUB_API_URL for GitHub Enterprise Server) and `repository: owner/name` in the config to turn them on.';

/** How many times a rate-limited request is tried again before the error is reported. */
const RATE_LIMIT_RETRIES = 2;

/** `owner/name`, or undefined for a git URL or local path (those are the git resolver's). */
export function parseRepository(repository: string | undefined): { owner: string; repo: string } | undefined {
  const m = repository?.match(/^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/);
  return m?.[1] && m[2] ? { owner: m[1], repo: m[2] } : undefined;
}

export function createGithubClient(settings: GithubSettings, repository: string | undefined, log: Logger): GithubClient | undefined {
  const repo = parseRepository(repository);
  if (!settings.token || !repo) return undefined;
  const glog = log.child({ component: 'github' });
  const octokit = new GithubOctokit({
    auth: settings.token,
    ...(settings.apiUrl ? { baseUrl: settings.apiUrl.replace(/\/$/, '') } : {}),
    userAgent: 'shipmate',
    log: { debug: () => undefined, info: () => undefined, warn: (m: string) => glog.warn(m), error: (m: string) => glog.error(m) },
    retry: { retries: 3, ...(settings.retryAfterBaseValue !== undefined ? { retryAfterBaseValue: settings.retryAfterBaseValue } : {}) },
    throttle: {
      ...(settings.retryAfterBaseValue !== undefined ? { retryAfterBaseValue: settings.retryAfterBaseValue, fallbackSecondaryRateRetryAfter: 1 } : {}),
      ...(settings.writeLimiter ? { write: settings.writeLimiter } : {}),
      onRateLimit: (retryAfter, options, _o, retryCount) => {
        glog.warn({ method: options.method, url: options.url, retryAfter, retryCount }, 'github rate limit hit');
        return retryCount < RATE_LIMIT_RETRIES;
      },
      onSecondaryRateLimit: (retryAfter, options, _o, retryCount) => {
        glog.warn({ method: options.method, url: options.url, retryAfter, retryCount }, 'github secondary rate limit hit');
        return retryCount < RATE_LIMIT_RETRIES;
      },
    },
  });
  return { octokit, ...repo, pollMs: settings.pollMs ?? { min: 2_000, max: 30_000 } };
}

/** A GitHub error as people should read it: rate limits and outages named, with what GitHub said. */
export function describeGithubError(err: unknown): string {
  const e = err as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } };
  const headers = e.response?.headers ?? {};
  if ((e.status === 403 || e.status === 429) && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined || /rate limit/i.test(e.message ?? ''))) {
    const reset = Number(headers['x-ratelimit-reset']);
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
    return `GitHub rate limit reached${when} (tried again, still limited): ${e.message ?? 'rate limited'}`;
  }
  if (e.status !== undefined && e.status >= 500) return `GitHub is not answering properly (HTTP ${e.status} after retries): ${e.message ?? ''}`.trim();
  if (e.status !== undefined) return `GitHub refused the request (HTTP ${e.status}): ${e.message ?? ''}`.trim();
  return `GitHub could not be reached: ${e.message ?? String(err)}`;
}
