// Small text formatters shared by the Block Kit builders: durations, dates, mentions, escaping.
import { UTCDate } from '@date-fns/utc';
import { format } from 'date-fns';

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return m < 60 ? `${m} min ${rest} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A Slack date token: shown in each reader's own time zone, with a UTC fallback. */
export function slackDate(at: number): string {
  const fallback = format(new UTCDate(at), "yyyy-MM-dd HH:mm 'UTC'");
  return `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** "3 checklist items", "1 approval": a count with its noun, never "item(s)". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Where a just-queued deploy stands, in words: position 1 is next in line (nothing runs or waits ahead of it). */
export function queuePlace(position: number, env: string): string {
  return position <= 1 ? 'nothing is ahead of it, so it starts right away' : `it waits for ${plural(position - 1, `${env} deploy`)} ahead of it`;
}

export function mention(user: string): string {
  // Deploys GitHub started (auto-deploy) name a GitHub login, which is no Slack user.
  if (user.startsWith('github:')) return `${escapeMrkdwn(user.slice(7))} (GitHub)`;
  // Changes Shipmate started by itself (a canary's automatic rollback: `shipmate:canary`).
  if (user.startsWith('shipmate:')) return `Shipmate (${escapeMrkdwn(user.slice(9))})`;
  return `<@${user}>`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters, keeping the end (the end of command output is what matters). */
export function keepTail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(-(max - 1))}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A version as people read it: `v1.4.0 (abc1234)` where versions are commits, the bare name otherwise. */
export function versionLabel(v: { version: string; sha?: string }): string {
  if (!v.sha) return v.version;
  const short = v.sha.slice(0, 7);
  // A SHA typed as the ref is its own version: show it once.
  return v.sha.toLowerCase().startsWith(v.version.toLowerCase()) ? short : `${v.version} (${short})`;
}

/** versionLabel in mrkdwn: the name in code, the short SHA after it. */
export function codeVersion(v: { version: string; sha?: string }): string {
  if (!v.sha) return `\`${escapeMrkdwn(v.version)}\``;
  const short = v.sha.slice(0, 7);
  return v.sha.toLowerCase().startsWith(v.version.toLowerCase()) ? `\`${short}\`` : `\`${escapeMrkdwn(v.version)}\` (${short})`;
}
