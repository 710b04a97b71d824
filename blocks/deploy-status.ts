// The live status message of one deploy: its steps, who asked, where it stands, and a Cancel button.
import type { KnownBlock } from '@slack/types';
import { isFinal as isFinished, type DeployRecord, type DeployStatus, type StepState } from '../src/deploys/deploy-store.js';
import { ACTIONS } from './action-ids.js';
import { watchStatusBlocks, type WatchPlan } from './canary-status.js';
import { escapeMrkdwn, formatDuration, keepTail, mention, slackDate, truncate, versionLabel } from './format.js';

export const STATUS_LABEL: Record<DeployStatus, string> = {
  pending: ':hourglass: Waiting for gates',
  queued: ':double_vertical_bar: Queued',
  running: ':arrows_counterclockwise: Running',
  succeeded: ':white_check_mark: Succeeded',
  failed: ':x: Failed',
  cancelled: ':no_entry_sign: Cancelled',
  interrupted: ':warning: Interrupted',
  rejected: ':no_entry: Rejected',
};

const STEP_ICON: Record<StepState['status'], string> = {
  pending: ':white_square:',
  running: ':arrows_counterclockwise:',
  passed: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
  cancelled: ':no_entry_sign:',
  interrupted: ':warning:',
};

function stepLine(step: StepState, index: number): string {
  const name = `${index + 1}. ${escapeMrkdwn(step.name)}`;
  switch (step.status) {
    case 'running':
      return `${STEP_ICON.running} *${name}* — running…`;
    case 'passed':
      return `${STEP_ICON.passed} ${name} — ${formatDuration(step.durationMs)}`;
    case 'failed':
      return `${STEP_ICON.failed} *${name}* — failed after ${formatDuration(step.durationMs)}${step.error ? `: ${escapeMrkdwn(truncate(step.error, 200))}` : ''}`;
    case 'pending':
      return `${STEP_ICON.pending} ${name}`;
    case 'cancelled':
      // The step's own error only repeats that it was stopped; say why instead.
      return `${STEP_ICON.cancelled} ${name} — stopped: the deploy was cancelled`;
    default:
      return `${STEP_ICON[step.status]} ${name} — ${step.status}${step.error ? `: ${escapeMrkdwn(truncate(step.error, 200))}` : ''}`;
  }
}

export function deployTitle(d: Pick<DeployRecord, 'id' | 'version' | 'sha' | 'env' | 'kind' | 'rollbackFrom'>): string {
  if (d.kind === 'rollback') return `Rollback #${d.id} · ${d.env} back to ${versionLabel(d)}${d.rollbackFrom ? ` (from ${d.rollbackFrom})` : ''}`;
  if (d.kind === 'migrate') return `Migration #${d.id} · ${d.version} on ${d.env}`;
  return `Deploy #${d.id} · ${versionLabel(d)} → ${d.env}`;
}

/** How much of a commit's first line the list shows. */
const SUBJECT_MAX = 72;

/**
 * The commits going out, newest first, with their authors (and links where the repository has a web page), capped
 * with "and N more". Undefined where versions are not commits or the list is unknown.
 */
export function commitListText(d: Pick<DeployRecord, 'commits' | 'commitCount' | 'previousSha' | 'kind'>): string | undefined {
  const commits = d.commits;
  if (!commits || d.kind === 'rollback') return undefined;
  if (commits.length === 0) return d.previousSha ? '*Changes*\nNo new commits: the environment already runs this one.' : undefined;
  const total = Math.max(d.commitCount ?? commits.length, commits.length);
  const lines = commits.map((c) => {
    const short = c.sha.slice(0, 7);
    const sha = c.url ? `<${c.url}|\`${short}\`>` : `\`${short}\``;
    return `• ${sha} ${escapeMrkdwn(truncate(c.message, SUBJECT_MAX))} — ${escapeMrkdwn(truncate(c.author, 40))}`;
  });
  const more = total > commits.length ? `\n…and ${total - commits.length} more` : '';
  const head = d.previousSha ? `*Changes* · ${total === 1 ? '1 commit' : `${total} commits`} since \`${d.previousSha.slice(0, 7)}\`` : '*Changes* · the latest commits (first deploy here)';
  return `${head}\n${lines.join('\n')}${more}`;
}

/**
 * `positionsShown`: only the first N places in line show their exact position; further back it says "behind N others",
 * so a deploy starting or finishing changes the text of at most N queued messages, however long the queue.
 */
export function deployStatusBlocks(d: DeployRecord, opts: { position?: number; positionsShown?: number; now?: number; signoff?: { label: string }; watchPlan?: (stepIndex: number) => WatchPlan | undefined } = {}): { text: string; blocks: KnownBlock[] } {
  const now = opts.now ?? Date.now();
  const elapsed = d.startedAt ? (d.finishedAt ?? now) - d.startedAt : undefined;
  const statusText =
    d.status === 'queued' && d.startsAt && d.startsAt > now
      ? `${STATUS_LABEL.queued} — starts ${slackDate(d.startsAt)} (stakeholders were told)`
      : d.status === 'queued' && opts.position && opts.position > 1
      ? opts.positionsShown !== undefined && opts.position > opts.positionsShown
        ? `${STATUS_LABEL.queued} — behind ${opts.positionsShown}+ others`
        : `${STATUS_LABEL.queued} — position ${opts.position}`
      : d.status === 'running' && d.cancelRequestedBy
        ? `${STATUS_LABEL.running} — stopping (cancel requested by ${mention(d.cancelRequestedBy)})`
        : STATUS_LABEL[d.status];
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${d.kind === 'rollback' ? '⏪' : '🚀'} ${deployTitle(d)}`, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Status*\n${statusText}` },
        { type: 'mrkdwn', text: `*Requested by*\n${mention(d.requestedBy)}` },
        { type: 'mrkdwn', text: d.sha ? `*Ref*\n\`${escapeMrkdwn(d.ref)}\` at \`${d.sha.slice(0, 7)}\`` : `*Ref*\n\`${escapeMrkdwn(d.ref)}\`` },
        { type: 'mrkdwn', text: d.startedAt ? `*Started*\n${slackDate(d.startedAt)}${elapsed !== undefined ? ` · ${formatDuration(elapsed)}` : ''}` : `*Requested*\n${slackDate(d.createdAt)}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: keepTail(d.steps.map(stepLine).join('\n'), 2900) } },
  ];
  // A running canary or monitor shows its phase, metrics and buttons right under the steps.
  d.steps.forEach((step, i) => {
    const plan = step.watch && opts.watchPlan?.(i);
    if (plan) blocks.push(...watchStatusBlocks(d, step, plan, now));
  });
  const changes = commitListText(d);
  if (changes) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(changes, 2900) } });
  const context: string[] = [];
  if (d.cancelledBy) context.push(`Cancelled by ${mention(d.cancelledBy)}.`);
  if (d.status === 'interrupted') context.push(escapeMrkdwn(truncate(d.error ?? 'The worker stopped while this deploy was running.', 500)));
  else if (d.status === 'failed' && d.error) context.push(escapeMrkdwn(truncate(d.error, 500)));
  if (d.notes.length > 0) context.push(truncate(d.notes.join(' · '), 1000));
  if (!isFinished(d.status)) context.push('Step output goes into this thread.');
  const signed = d.gates?.postDeploySignoff;
  if (opts.signoff && d.status === 'succeeded') {
    context.push(signed ? `:white_check_mark: ${opts.signoff.label} signed off: ${mention(signed.user)} ${slackDate(signed.at)}` : `:hourglass: Waiting for the ${opts.signoff.label} sign-off after deploy.`);
  }
  if (d.gates?.metAt) context.push(`Gates met ${slackDate(d.gates.metAt)}${d.gates.approvals.length ? ` · approved by ${d.gates.approvals.map((a) => mention(a.user)).join(', ')}` : ''}.`);
  if (context.length > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(context.join('\n'), 2900) }] });
  if (opts.signoff && d.status === 'succeeded' && !signed) {
    blocks.push({
      type: 'actions',
      block_id: `signoff_${d.id}`,
      elements: [{ type: 'button', action_id: ACTIONS.postDeploySignoff, text: { type: 'plain_text', text: truncate(`Sign off as ${opts.signoff.label}`, 75) }, style: 'primary', value: d.id }],
    });
  }
  if (!isFinished(d.status)) {
    // A running deploy is stopped, a queued one cancelled; a rollback is called a rollback.
    const noun = d.kind === 'rollback' ? 'rollback' : 'deploy';
    const verb = d.status === 'running' ? 'Stop' : 'Cancel';
    blocks.push({
      type: 'actions',
      block_id: `deploy_${d.id}`,
      elements: [
        {
          type: 'button',
          action_id: ACTIONS.cancelDeploy,
          text: { type: 'plain_text', text: `${verb} ${noun}` },
          style: 'danger',
          value: d.id,
          confirm: {
            title: { type: 'plain_text', text: `${verb} this ${noun}?` },
            text: { type: 'mrkdwn', text: d.status === 'running' ? `The running step is stopped and no further step runs on *${escapeMrkdwn(d.env)}*.` : `${noun === 'rollback' ? 'Rollback' : 'Deploy'} #${d.id} leaves the queue for *${escapeMrkdwn(d.env)}*.` },
            confirm: { type: 'plain_text', text: `${verb} ${noun}` },
            deny: { type: 'plain_text', text: 'Keep it' },
            style: 'danger',
          },
        },
      ],
    });
  }
  const text = `${deployTitle(d)}: ${STATUS_LABEL[d.status].replace(/^:[a-z_]+: /, '')}`;
  return { text, blocks };
}

/** One step's output, posted into the deploy's thread. Output is already masked. */
export function stepOutputBlocks(step: StepState, index: number, output: string): { text: string; blocks: KnownBlock[] } {
  const summary = stepLine(step, index);
  const body = output.trim() ? `\`\`\`${keepTail(output.trim().replace(/```/g, "'''"), 2800)}\`\`\`` : '_no output_';
  return {
    text: `${step.name}: ${step.status}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: summary } },
      { type: 'section', text: { type: 'mrkdwn', text: body } },
    ],
  };
}
