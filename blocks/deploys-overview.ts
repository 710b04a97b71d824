// The /deploys overview: each environment's current version, what runs or waits now, and the latest log entries.
import type { KnownBlock } from '@slack/types';
import type { DeployRecord, EnvState, LogEntry } from '../src/deploys/deploy-store.js';
import type { EnvLock } from '../src/deploys/locks.js';
import { logLine } from './deploy-log.js';
import { lockText } from './locks.js';
import { STATUS_LABEL } from './deploy-status.js';
import { codeVersion, escapeMrkdwn, mention, slackDate, truncate, versionLabel } from './format.js';

export interface EnvOverview {
  name: string;
  aliases: string[];
  current?: EnvState;
  /** Set while the environment is locked (src/deploys/locks.ts). */
  lock?: EnvLock;
  active: DeployRecord[];
  /** How far the environment it is promoted from (`from`) is ahead of and behind this one, in commits. */
  apart?: { from: string; ahead: number; behind: number };
  /** App Home: the freeze in force, the next maintenance window and release day (src/slack/home.ts), as mrkdwn. */
  schedule?: string;
}

/** "staging is 4 commits ahead of production", in the words a release channel uses. */
export function apartLine(env: string, a: NonNullable<EnvOverview['apart']>): string {
  const commits = (n: number) => `${n} commit${n === 1 ? '' : 's'}`;
  if (a.ahead === 0 && a.behind === 0) return `${a.from} and ${env} run the same commit`;
  if (a.behind === 0) return `${a.from} is ${commits(a.ahead)} ahead of ${env}`;
  if (a.ahead === 0) return `${a.from} is ${commits(a.behind)} behind ${env}`;
  return `${a.from} and ${env} have diverged: ${a.from} has ${commits(a.ahead)} ${env} lacks, ${env} has ${commits(a.behind)} ${a.from} lacks`;
}

function activeLine(d: DeployRecord): string {
  return `${STATUS_LABEL[d.status]} #${d.id} ${codeVersion(d)} by ${mention(d.requestedBy)}`;
}

export function deploysOverviewBlocks(envs: EnvOverview[], log: LogEntry[]): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Deploys', emoji: true } }];
  // Each environment takes two blocks; keep room for the log and Slack's 50-block limit.
  for (const env of envs.slice(0, 20)) {
    const current = env.current
      ? `${codeVersion(env.current)} by ${mention(env.current.deployedBy)} ${slackDate(env.current.at)}${env.apart ? `\n:left_right_arrow: ${escapeMrkdwn(apartLine(env.name, env.apart))}` : ''}`
      : '_nothing deployed through Shipmate yet_';
    const active = env.active.length ? env.active.slice(0, 10).map(activeLine).join('\n') + (env.active.length > 10 ? `\n…and ${env.active.length - 10} more` : '') : 'Idle';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(env.name)}*${env.aliases.length ? ` (${env.aliases.map(escapeMrkdwn).join(', ')})` : ''}\nCurrent: ${current}${env.lock ? `\n:lock: Locked ${lockText(env.lock)}` : ''}${env.schedule ? `\n${env.schedule}` : ''}\n${active}`, 2900) },
    });
  }
  blocks.push({ type: 'divider' });
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(`*Deployment log*\n${log.length ? log.map(logLine).join('\n') : '_no deploys yet_'}`, 2900) },
  });
  const text = envs.map((e) => `${e.name}: ${e.current ? versionLabel(e.current) : 'nothing deployed'}${e.apart ? ` (${apartLine(e.name, e.apart)})` : ''}${e.active.length ? ` (${e.active.length} active)` : ''}${e.lock ? ' (locked)' : ''}`).join('; ');
  return { text, blocks };
}
