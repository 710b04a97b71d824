// The live part of a deploy's status message while a canary or monitor step runs: phase, weight, time
// left in the hold, each metric's latest value against its threshold (with a text sparkline), and the
// Promote now / Pause / Resume / Abort buttons. Pure: built from the record alone.
import type { KnownBlock } from '@slack/types';
import type { DeployRecord, StepState } from '../src/deploys/deploy-store.js';
import type { WatchAction } from '../src/canary/watch-state.js';
import { codeVersion, escapeMrkdwn, formatDuration, truncate } from './format.js';

export const CANARY_ACTIONS: Record<WatchAction, string> = {
  promote: 'shipmate_canary_promote',
  pause: 'shipmate_canary_pause',
  resume: 'shipmate_canary_resume',
  abort: 'shipmate_canary_abort',
};

const BARS = '▁▂▃▄▅▆▇█';
function spark(values: readonly number[]): string {
  if (values.length < 2) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}

/** Phase info a step's config gives (the record keeps only state): weights and holds in order. */
export interface WatchPlan {
  phases: Array<{ weight?: number; hold?: number }>;
  /** Formats a metric's value in its unit. */
  format: (metric: string, value: number) => string;
}

export function watchStatusBlocks(d: DeployRecord, step: StepState, plan: WatchPlan, now: number): KnownBlock[] {
  const w = step.watch;
  if (!w || step.status !== 'running') return [];
  const phase = plan.phases[w.phase];
  const canary = w.kind === 'canary';
  const head = canary
    ? `*Canary* · phase ${Math.min(w.phase + 1, plan.phases.length)} of ${plan.phases.length}${phase?.weight !== undefined ? ` · weight ${phase.weight} %` : ''}`
    : '*Monitor*';
  const left = phase?.hold !== undefined && w.phaseStartedAt !== undefined && w.weightSetFor === w.phase ? Math.max(0, w.phaseStartedAt + phase.hold - (w.paused ? w.paused.at : now)) : undefined;
  const state = w.paused
    ? `:double_vertical_bar: *Paused*${w.paused.by ? ` by <@${w.paused.by}>` : ''}: ${escapeMrkdwn(truncate(w.paused.reason, 300))}`
    : left !== undefined
      ? `${formatDuration(left)} left in this ${canary ? 'hold' : 'watch'}`
      : w.weightSetFor === w.phase ? 'evaluating' : 'setting up';
  const metrics = Object.entries(w.latest).map(([name, m]) => {
    const icon = m.problem ? ':grey_question:' : m.breached ? ':red_circle:' : ':large_green_circle:';
    const value = m.value !== undefined ? plan.format(name, m.value) : escapeMrkdwn(m.problem ?? 'no value yet');
    const since = w.breachSince[name];
    return `${icon} ${escapeMrkdwn(name)}: *${value}* ${escapeMrkdwn(m.rule)} ${spark(m.history)}${since !== undefined ? ` · breaching for ${formatDuration(now - since)}` : ''}`;
  });
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: truncate([`${head} · ${state}`, ...metrics].join('\n'), 2900) } }];
  const button = (action: WatchAction, text: string, style?: 'primary' | 'danger') => ({
    type: 'button' as const, action_id: CANARY_ACTIONS[action], text: { type: 'plain_text' as const, text }, value: d.id, ...(style ? { style } : {}),
  });
  blocks.push({
    type: 'actions',
    block_id: `canary_${d.id}`,
    elements: [
      ...(canary ? [button('promote', 'Promote now', 'primary')] : []),
      w.paused ? button('resume', 'Resume') : button('pause', 'Pause'),
      { ...button('abort', canary ? 'Abort canary' : 'Roll back', 'danger'), confirm: { title: { type: 'plain_text', text: 'Take the new version out?' }, text: { type: 'mrkdwn', text: `Runs the abort command on *${escapeMrkdwn(d.env)}* and ends the deploy as rolled back.` }, confirm: { type: 'plain_text', text: 'Abort' }, deny: { type: 'plain_text', text: 'Keep it' }, style: 'danger' } },
    ],
  });
  return blocks;
}

/**
 * The question an inconclusive pause asks in the deploy's thread: it names the people who decide (mentions
 * already built: `<@U…>`, `<!subteam^S…>`) and carries Resume / Abort (same action ids as the status message).
 */
export function canaryAskBlocks(d: Pick<DeployRecord, 'id' | 'env' | 'version' | 'sha'>, p: { kind: 'canary' | 'monitor'; reason: string; where: string; mentions: string[] }): { text: string; blocks: KnownBlock[] } {
  const what = p.kind === 'canary' ? 'canary' : 'monitor';
  const text = `:double_vertical_bar: ${p.mentions.join(' ')} the ${what} of deploy #${d.id} (${codeVersion(d)} → *${escapeMrkdwn(d.env)}*) is paused at ${escapeMrkdwn(p.where)}: ${escapeMrkdwn(truncate(p.reason, 500))}. It never promotes on missing data: *Resume* once the metrics are back, or *Abort* to take the new version out.`;
  const button = (action: WatchAction, label: string, style?: 'danger') => ({ type: 'button' as const, action_id: CANARY_ACTIONS[action], text: { type: 'plain_text' as const, text: label }, value: d.id, ...(style ? { style } : {}) });
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 2900) } },
      { type: 'actions', block_id: `canary_ask_${d.id}`, elements: [button('resume', 'Resume'), button('abort', p.kind === 'canary' ? 'Abort canary' : 'Roll back', 'danger')] },
    ],
  };
}
