// One deployment-log entry (date, version, deployed by, status, duration, notes) for the deploy-log channel.
import type { KnownBlock } from '@slack/types';
import type { LogEntry } from '../src/deploys/deploy-store.js';
import { STATUS_LABEL } from './deploy-status.js';
import { escapeMrkdwn, formatDuration, mention, slackDate, truncate } from './format.js';

export function logLine(e: LogEntry): string {
  return `${slackDate(e.at)} · *${escapeMrkdwn(e.env)}* · \`${escapeMrkdwn(e.version)}\` · ${STATUS_LABEL[e.status]} · by ${mention(e.deployedBy)}${e.durationMs !== undefined ? ` · ${formatDuration(e.durationMs)}` : ''}`;
}

/** Notes are mrkdwn written by Shipmate (mentions included); text that came from outside is escaped where the note is made. */
export function deployLogBlocks(e: LogEntry): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Date*\n${slackDate(e.at)}` },
        { type: 'mrkdwn', text: `*Environment*\n${escapeMrkdwn(e.env)}` },
        { type: 'mrkdwn', text: `*Version*\n\`${escapeMrkdwn(e.version)}\`` },
        { type: 'mrkdwn', text: `*Deployed by*\n${mention(e.deployedBy)}` },
        { type: 'mrkdwn', text: `*Status*\n${STATUS_LABEL[e.status]}` },
        { type: 'mrkdwn', text: `*Duration*\n${e.durationMs !== undefined ? formatDuration(e.durationMs) : '—'}` },
      ],
    },
  ];
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(`Deploy #${e.deployId}${e.ref !== e.version ? ` · ref \`${escapeMrkdwn(e.ref)}\`` : ''}${e.notes.length ? ` · ${e.notes.join(' · ')}` : ''}`, 2900) }],
  });
  return { text: `Deployment log: ${e.version} to ${e.env} — ${e.status}`, blocks };
}
