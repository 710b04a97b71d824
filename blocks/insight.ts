// Block Kit for insight: the DORA numbers of an environment (with definitions, bands and trends) and one page of its
// deployment log with next/previous buttons. Pure: the numbers come in computed.
import type { KnownBlock } from '@slack/types';
import type { LogEntry } from '../src/deploys/deploy-store.js';
import { ACTIONS } from './action-ids.js';
import { logLine } from './deploy-log.js';
import { escapeMrkdwn, plural, truncate } from './format.js';

/** One row of the numbers, worded by src/insight/summary.ts. */
export interface StatsRow {
  title: string;
  value: string;
  band?: 'Elite' | 'High' | 'Medium' | 'Low';
  trend: string;
}

const BAND_ICON = { Elite: ':large_green_circle:', High: ':large_blue_circle:', Medium: ':large_yellow_circle:', Low: ':red_circle:' } as const;

/** The four numbers, each with its band and trend, and the definitions underneath. */
export function statsBlocks(title: string, rows: StatsRow[], definitions?: string[]): { text: string; blocks: KnownBlock[] } {
  const lines = rows.map((r) => `*${r.title}:* ${r.value}${r.band ? ` · ${BAND_ICON[r.band]} ${r.band}` : ''}\n      _${r.trend}_`);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
  ];
  if (definitions?.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(definitions.join('\n'), 2900) }] });
  return { text: `${title}: ${rows.map((r) => `${r.title} ${r.value}`).join('; ')}`, blocks };
}

/** What the page buttons carry: the query (as typed) and where to go from. Kept short: a button value holds 2,000 characters. */
export interface LogPageState {
  env: string;
  since?: number;
  user?: string;
  status?: string;
  cursor?: string;
  dir?: 'older' | 'newer';
}

export function logPageValue(state: LogPageState): string {
  return JSON.stringify(state);
}

export function parseLogPageValue(value: string | undefined): LogPageState | undefined {
  try {
    const v = JSON.parse(value ?? '') as Partial<LogPageState>;
    const short = (x: unknown) => x === undefined || (typeof x === 'string' && x.length <= 200);
    if (typeof v.env !== 'string' || !/^[A-Za-z0-9_-]{1,63}$/.test(v.env) || !short(v.user) || !short(v.status) || !short(v.cursor)) return undefined;
    if (v.since !== undefined && !Number.isFinite(v.since)) return undefined;
    if (v.dir !== undefined && v.dir !== 'older' && v.dir !== 'newer') return undefined;
    return v as LogPageState;
  } catch {
    return undefined;
  }
}

/** Kinds that are not deploys say what they are ("Flag change", "Lock"): one timeline per environment. */
function entryLine(e: LogEntry): string {
  const names: Record<string, string> = { hotfix: 'Hotfix', migrate: 'Migration', flag: 'Flag change', lock: 'Lock change' };
  const kind = e.kind && names[e.kind] ? `*${names[e.kind]}* · ` : '';
  return truncate(`${kind}${logLine(e)}${e.notes.length ? ` — ${e.notes.slice(0, 2).join(' · ')}` : ''}`, 2900);
}

export function logPageBlocks(
  page: { entries: LogEntry[]; first?: string; last?: string; hasOlder: boolean; hasNewer: boolean; total?: number; examined: number },
  query: Omit<LogPageState, 'cursor' | 'dir'>,
  filters: string,
): { text: string; blocks: KnownBlock[] } {
  const title = `Deployment log · ${query.env}${filters ? ` · ${filters}` : ''}`;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(title, 150) } }];
  if (page.entries.length === 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: page.hasOlder ? `Nothing in the ${page.examined} entries looked at; older entries follow.` : 'No entries match.' } });
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: page.entries.map(entryLine).join('\n').slice(0, 3000) } });
  }
  if (page.total !== undefined) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${plural(page.total, 'entry', 'entries')} match. Add \`--export csv\` or \`--export json\` for the file.` }] });
  const buttons = [];
  if (page.hasNewer && page.first) buttons.push({ type: 'button' as const, action_id: ACTIONS.logNewer, text: { type: 'plain_text' as const, text: '← Newer' }, value: logPageValue({ ...query, cursor: page.first, dir: 'newer' }) });
  if (page.hasOlder && page.last) buttons.push({ type: 'button' as const, action_id: ACTIONS.logOlder, text: { type: 'plain_text' as const, text: 'Older →' }, value: logPageValue({ ...query, cursor: page.last, dir: 'older' }) });
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons });
  return { text: `${title}: ${plural(page.entries.length, 'entry', 'entries')}`, blocks };
}

export function filterLabel(q: { since?: number; user?: string; status?: string }, sinceText?: string): string {
  return [sinceText ? `since ${escapeMrkdwn(sinceText)}` : '', q.user ? `by <@${q.user}>` : '', q.status ? `status ${q.status}` : ''].filter(Boolean).join(' · ');
}
