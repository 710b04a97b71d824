// The requester's time zone, from Slack's users.info `tz`, so refusals and /deploys windows can say times in it.
// Kept in Redis for an hour (no module cache: several processes answer requests); a Slack that is slow or down
// only costs the local time, never the request: UTC is always shown.
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { timeZoneProblem } from './time-rules.js';

const CACHE_S = 3600;

export async function userTimeZone(d: { slack: WebClient; redis: Redis; prefix: string }, user: string, withinMs = 500): Promise<string | undefined> {
  const key = `${d.prefix}:tz:${user}`;
  const cached = await d.redis.get(key).catch(() => null);
  if (cached) return cached;
  const asked = d.slack.users.info({ user }).then((r) => r.user?.tz);
  const tz = await Promise.race([asked, new Promise<undefined>((ok) => setTimeout(ok, withinMs))]).catch(() => undefined);
  if (!tz || timeZoneProblem(tz)) return undefined;
  await d.redis.set(key, tz, 'EX', CACHE_S).catch(() => undefined);
  return tz;
}
