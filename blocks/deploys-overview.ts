// The /deploys overview: each environment's current version, what runs or waits now, and the latest log entries.
import type { KnownBlock } from '@slack/types';
import type { DeployRecord, EnvState, LogEntry } from '../src/deploys/deploy-store.js';
import { logLine } from './deploy-log.js';
import { STATUS_LABEL } from './deploy-status.js';
import { escapeMrkdwn, mention, slackDate, truncate } from './format.js';

export interface EnvOverview {
  name: string;
  aliases: string[];
  current?: EnvState;
  active: DeployRecord[];
}

function activeLine(d: DeployRecord): string {
  return `${STATUS_LABEL[d.status]} #${d.id} \`${escapeMrkdwn(d.version)}\` by ${mention(d.requestedBy)}`;
}

export function deploysOverviewBlocks(envs: EnvOverview[], log: LogEntry[]): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Deploys', emoji: true } }];
  // Each environment takes two blocks; keep room for the log and Slack's 50-block limit.
  for (const env of envs.slice(0, 20)) {
    const current = env.current
      ? `\`${escapeMrkdwn(env.current.version)}\` by ${mention(env.current.deployedBy)} ${slackDate(env.current.at)}`
      : '_nothing deployed through Shipmate yet_';
    const active = env.active.length ? env.active.slice(0, 10).map(activeLine).join('\n') + (env.active.length > 10 ? `\n…and ${env.active.length - 10} more` : '') : 'Idle';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(env.name)}*${env.aliases.length ? ` (${env.aliases.map(escapeMrkdwn).join(', ')})` : ''}\nCurrent: ${current}\n${active}`, 2900) },
    });
  }
  blocks.push({ type: 'divider' });
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(`*Deployment log*\n${log.length ? log.map(logLine).join('\n') : '_no deploys yet_'}`, 2900) },
  });
  const text = envs.map((e) => `${e.name}: ${e.current?.version ?? 'nothing deployed'}${e.active.length ? ` (${e.active.length} active)` : ''}`).join('; ');
  return { text, blocks };
}
