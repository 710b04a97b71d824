// The DORA chart on App Home. A Block Kit image block shows either a public URL or a file uploaded to Slack
// (`slack_file`); Shipmate needs no public URL of its own, so the chart PNG is uploaded to Slack as the app's own
// file (no channel: nothing is posted) by the upload job, and the Home shows it by id. One upload per chart: the
// chart is named by a hash of the numbers it draws, rendered and uploaded again only when they change; until the new
// one is there the Home keeps showing the last one.
import { createHash } from 'node:crypto';
import type { KnownBlock } from '@slack/types';
import type { Deps } from '../deps.js';
import type { Series } from './dora.js';
import { requestUpload } from './insight.js';

// Not insight.ts's DAY: the two modules import each other, and a constant must not wait for the other to load.
const DAY = 24 * 3_600_000;
export const HOME_CHART_PERIOD = 30 * DAY;
/**
 * A chart is redrawn at most this often per environment: during a busy release every deploy changes the numbers, and
 * each drawing costs the process a few hundred milliseconds of CPU and Slack one more file.
 */
export const HOME_CHART_MIN_INTERVAL_MS = 10 * 60_000;

const chartKey = (prefix: string, env: string) => `${prefix}:home-chart:${env}`;

/** The chart's identity: the environment and every number it draws (its day and week buckets included). */
export function chartHash(env: string, s: Series): string {
  return createHash('sha256').update(JSON.stringify({ env, s })).digest('hex').slice(0, 20);
}

/**
 * The Home's image block for `env`'s chart of these numbers: the uploaded chart when it is current, else the last one
 * while a new one is uploaded (asked for here, once per hash, and not while the last one is younger than
 * HOME_CHART_MIN_INTERVAL_MS), else none yet.
 */
export async function homeChartBlock(deps: Pick<Deps, 'redis' | 'prefix' | 'queues'>, env: string, s: Series, now: number): Promise<KnownBlock | undefined> {
  const hash = chartHash(env, s);
  const stored = await deps.redis.hgetall(chartKey(deps.prefix, env));
  const fresh = stored.at !== undefined && now - Number(stored.at) < HOME_CHART_MIN_INTERVAL_MS;
  if (stored.hash !== hash && !fresh) await requestUpload(deps, `home-chart-${env}-${hash}`, { kind: 'home-chart', env, periodMs: HOME_CHART_PERIOD, now });
  if (!stored.file) return undefined;
  const asOf = new Date(Number(stored.at)).toISOString().slice(0, 16).replace('T', ' ');
  return {
    type: 'image',
    slack_file: { id: stored.file },
    alt_text: `${env}: deploys per day by outcome, lead time and change failure rate per week, last 30 days`,
    title: { type: 'plain_text', text: `${env} — last 30 days${stored.hash === hash ? '' : ` (as of ${asOf} UTC)`}` },
  };
}

/** Keeps the newer of two charts (uploads may finish out of order). KEYS: chart hash. ARGV: hash, file id, time drawn. */
const KEEP_NEWER = `
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
if at > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'file', ARGV[2], 'at', ARGV[3])
return 1`;

/** After the upload: the Home shows this chart from now on; the people who opened their Home lately see it at once. */
export async function chartUploaded(deps: Pick<Deps, 'redis' | 'prefix' | 'messenger'>, env: string, hash: string, fileId: string, drawnAt: number): Promise<void> {
  const kept = await deps.redis.eval(KEEP_NEWER, 1, chartKey(deps.prefix, env), hash, fileId, String(drawnAt));
  if (kept === 1) await deps.messenger.republishRecentHomes(`chart-${hash}`);
}
