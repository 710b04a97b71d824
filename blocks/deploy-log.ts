// One deployment-log entry (date, version, deployed by, status, duration, notes) for the deploy-log channel.
import type { KnownBlock } from '@slack/types';
import type { LogEntry } from '../src/deploys/deploy-store.js';
import { STATUS_LABEL } from './deploy-status.js';
import { codeVersion, escapeMrkdwn, formatDuration, mention, slackDate, truncate, versionLabel } from './format.js';

/** The status as the log shows it: a rollback says so ("Rollback succeeded"), never a plain "Succeeded". */
export function logStatus(e: Pick<LogEntry, 'status' | 'kind'>): string {
  const label = STATUS_LABEL[e.status];
  if (e.kind !== 'rollback') return label;
  const [icon, ...words] = label.split(' ');
  return `${icon} Rollback ${words.join(' ').toLowerCase()}`;
}

/**
 * Who the entry names, and as what: a deploy that never ran (rejected at its gates, cancelled in the queue) was only
 * *requested* by them — "Rejected · by @alex" read as if Alex had rejected it.
 */
export function logPerson(e: Pick<LogEntry, 'durationMs' | 'kind'>): string {
  if (e.kind === 'flag') return 'Changed by';
  if (e.durationMs === undefined) return 'Requested by';
  return e.kind === 'rollback' ? 'Rolled back by' : 'Deployed by';
}

export function logLine(e: LogEntry): string {
  return `${slackDate(e.at)} · *${escapeMrkdwn(e.env)}* · ${codeVersion(e)} · ${logStatus(e)} · ${logPerson(e).toLowerCase()} ${mention(e.deployedBy)}${e.durationMs !== undefined ? ` · ${formatDuration(e.durationMs)}` : ''}`;
}

/** Notes are mrkdwn written by Shipmate (mentions included); text that came from outside is escaped where the note is made. */
export function deployLogBlocks(e: LogEntry): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Date*\n${slackDate(e.at)}` },
        { type: 'mrkdwn', text: `*Environment*\n${escapeMrkdwn(e.env)}` },
        { type: 'mrkdwn', text: `*Version*\n${codeVersion(e)}` },
        { type: 'mrkdwn', text: `*${logPerson(e)}*\n${mention(e.deployedBy)}` },
        { type: 'mrkdwn', text: `*Status*\n${logStatus(e)}` },
        { type: 'mrkdwn', text: `*Duration*\n${e.durationMs !== undefined ? formatDuration(e.durationMs) : '—'}` },
      ],
    },
  ];
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(`${e.kind === 'rollback' ? 'Rollback' : 'Deploy'} #${e.deployId}${e.ref !== e.version ? ` · ref \`${escapeMrkdwn(e.ref)}\`` : ''}${e.notes.length ? ` · ${e.notes.join(' · ')}` : ''}`, 2900) }],
  });
  const what = e.kind === 'rollback' ? `${e.env} rolled back to ${versionLabel(e)}` : `${versionLabel(e)} to ${e.env}`;
  return { text: `Deployment log: ${what} — ${e.status}`, blocks };
}
