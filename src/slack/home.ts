// The App Home tab: the user's pending sign-offs and unticked checklists, with buttons to act, and every environment's state.
import { gateEnvironment } from '../migrations/override.js';
import type { App } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { homeGateBlocks } from '../../blocks/gate-message.js';
import { deploysOverview } from './overview.js';
import { roleLabel } from '../core/config.js';
import type { Deps } from '../deps.js';
import { homeViewersKey } from './status-message.js';
import { approvalProblem, summarize } from '../gates/gate-rules.js';
import { DAY, environmentStats } from '../insight/insight.js';
import { statsRows } from '../insight/summary.js';
import { homeChartBlock } from '../insight/home-chart.js';
import type { Config } from '../core/config.js';
import { freezeSpan, nextWindow, releaseSpan } from '../schedule/schedule.js';
import { activeAt, upcoming } from '../schedule/time-rules.js';
import { escapeMrkdwn, slackDate } from '../../blocks/format.js';

export async function homeBlocks(deps: Deps, user: string): Promise<KnownBlock[]> {
  const roleName = (r: string) => roleLabel(deps.config, r);
  const held = await deps.roles.rolesOf(user);
  const pending = (await deps.store.active()).filter((d) => d.status === 'pending' && d.gates);
  const mine: KnownBlock[] = [];
  for (const d of pending) {
    const configured = deps.config.environments.find((e) => e.name === d.env);
    if (!configured || !d.gates) continue;
    const env = gateEnvironment(configured, d);
    const summary = summarize(env, d.gates);
    const canApprove = summary.approvalsNeeded > 0 && (env.approvals?.roles ?? []).some((r) => !approvalProblem(env, d.gates!, d.requestedBy, user, r, held, roleName));
    const canTick = summary.missingItems.some((m) => !m.auto) && (await deps.gates.mayTick(d, user));
    if (!canApprove && !canTick) continue;
    mine.push(...homeGateBlocks(d, env, roleName, { canApprove, canTick, heldRoles: held }), { type: 'divider' });
  }
  const now = deps.now();
  const overview = await deploysOverview(deps, undefined, (env) => scheduleLine(deps.config, env, now));
  overview.blocks.push(...(await doraBoard(deps)));
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Waiting for you', emoji: true } },
    ...(mine.length ? mine : [{ type: 'section', text: { type: 'mrkdwn', text: 'Nothing needs your sign-off or a tick right now. :white_check_mark:' } } as KnownBlock]),
    ...overview.blocks,
  ];
  // Home views hold at most 100 blocks; the overview goes last, so cut pending work first if needed.
  return blocks.length > 100 ? [...blocks.slice(0, 99 - overview.blocks.length), { type: 'context', elements: [{ type: 'mrkdwn', text: '…more waiting; see the gate messages in the channels.' }] }, ...overview.blocks] : blocks;
}

/**
 * An environment's row on the board: the freeze in force, the maintenance window open or next, the release day
 * today or next (src/schedule, as `/deploys windows` reads them); times in each viewer's own zone (Slack date tokens).
 */
export function scheduleLine(config: Config, env: string, now: number): string | undefined {
  const covers = (rule: { environments: string[] }) => rule.environments.length === 0 || rule.environments.includes(env);
  const parts: string[] = [];
  const freeze = config.schedule.freezes.filter(covers).map((f) => ({ f, o: activeAt(freezeSpan(config, f), now) })).find((x) => x.o);
  if (freeze?.o) parts.push(`:no_entry: Frozen until ${slackDate(freeze.o.end)}: ${escapeMrkdwn(freeze.f.reason)}${freeze.f.allowHotfix ? ' (hotfixes may go out)' : ''}`);
  const w = nextWindow(config, env, now);
  if (w) parts.push(w.start <= now ? `:large_green_circle: Window *${escapeMrkdwn(w.name)}* open until ${slackDate(w.end)}` : `:calendar: Next window *${escapeMrkdwn(w.name)}* ${slackDate(w.start)}`);
  const day = config.schedule.releaseCalendar.filter(covers)
    .flatMap((r) => upcoming(releaseSpan(config, r), now, 1).map((o) => ({ ...o, name: r.name })))
    .sort((a, b) => a.start - b.start)[0];
  if (day) parts.push(day.start <= now ? `:rocket: Release day *${escapeMrkdwn(day.name)}* today` : `:rocket: Next release day *${escapeMrkdwn(day.name)}* ${slackDate(day.start)}`);
  return parts.length ? parts.join('\n') : undefined;
}

/** The last 30 days' DORA numbers of every environment, one line each (src/insight); a failure to read them leaves them out. */
async function doraBoard(deps: Deps): Promise<KnownBlock[]> {
  try {
    const now = deps.now();
    const all = await Promise.all(deps.config.environments.map(async (e) => ({ env: e.name, ...(await environmentStats(deps, e.name, now, 30 * DAY)) })));
    const lines = all.map(({ env, stats }) => `*${env}* — ${statsRows(stats).map((r) => `${r.title.toLowerCase()}: ${r.value}${r.band ? ` (${r.band})` : ''}`).join(' · ')}`);
    // Charts of the environments that changed in the period, the last three in config order (nearest production).
    const charted = all.filter((e) => e.series.days.some((d) => d.ok + d.failed + d.rollbacks > 0)).slice(-3);
    const charts = (await Promise.all(charted.map((e) => homeChartBlock(deps, e.env, e.series, now)))).filter((b) => b !== undefined);
    return [
      { type: 'header', text: { type: 'plain_text', text: 'DORA metrics, last 30 days', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 3000) } },
      ...charts,
      { type: 'context', elements: [{ type: 'mrkdwn', text: '`/deploys stats <environment>` for trends, definitions and the chart.' }] },
    ];
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'dora numbers left out of the home tab');
    return [];
  }
}

export async function publishHome(deps: Deps, user: string): Promise<void> {
  try {
    const blocks = await homeBlocks(deps, user);
    await deps.slack.views.publish({ user_id: user, view: { type: 'home', blocks } }).catch(async (err: { data?: { error?: string; errors?: string[] } }) => {
      // A chart Slack will not show (a file it has not processed yet, or one removed) must not cost the whole Home.
      if (err.data?.error !== 'invalid_blocks' || !JSON.stringify(err.data.errors ?? []).includes('slack_file')) throw err;
      deps.log.warn({ user, errors: err.data.errors }, 'home chart refused by slack; home published without it');
      await deps.slack.views.publish({ user_id: user, view: { type: 'home', blocks: blocks.filter((b) => b.type !== 'image') } });
    });
  } catch (err) {
    deps.log.warn({ user, err: (err as Error).message }, 'home tab not published');
  }
}

export function registerHome(app: App, deps: Deps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    // Remembered, so deploys starting and ending republish this user's Home (src/slack/status-message.ts).
    const viewers = homeViewersKey(deps.prefix);
    await deps.redis.multi().zadd(viewers, Date.now(), event.user).zremrangebyscore(viewers, '-inf', Date.now() - 30 * 86_400_000).exec().catch(() => undefined);
    await publishHome(deps, event.user);
  });
}
