// `/deploys stats <env> [30d]` and `/deploys log <env> [--since 7d] [--user @x] [--status failed] [--export csv|json]`:
// the DORA numbers (posted in the channel, the chart uploaded into their thread by a job) and pages of the
// environment's deployment log (private, with next/previous buttons) or its export as a file.
import ms from 'ms';
import { filterLabel, logPageBlocks, statsBlocks } from '../blocks/insight.js';
import type { Deps } from '../src/deps.js';
import { UserInputError } from '../src/core/errors.js';
import { FINAL_STATUSES, type DeployStatus } from '../src/deploys/deploy-store.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { DAY, environmentStats, requestUpload, type LogFilter } from '../src/insight/insight.js';
import { definitions, periodLabel, statsRows } from '../src/insight/summary.js';
import type { CommandArgs, CommandOutcome } from './respond.js';

export const STATS_USAGE = 'Usage: `/deploys stats <environment> [period]`, e.g. `/deploys stats production 30d` (period 1d–365d, default 30d).';
export const LOG_USAGE = 'Usage: `/deploys log <environment> [--since 7d] [--user @someone] [--status failed] [--export csv|json]`.';

/** Words of the command text; a Slack mention `<@U1|alex smith>` stays one word. */
export function words(text: string): string[] {
  return text.match(/<[^>]*>|\S+/g) ?? [];
}

function period(word: string | undefined, usage: string): number {
  if (word === undefined) return 30 * DAY;
  const m = /^(\d{1,3})([dw])$/i.exec(word);
  const value = m ? Number(m[1]) * (m[2]?.toLowerCase() === 'w' ? 7 : 1) * DAY : undefined;
  if (!value || value < DAY || value > 365 * DAY) throw new UserInputError(`\`${word.slice(0, 20)}\` is not a period Shipmate can count over: use days or weeks, like \`7d\`, \`30d\` or \`12w\` (1d–365d).`, usage);
  return value;
}

export async function deploysStats(deps: Deps, { command }: CommandArgs, args: string[]): Promise<CommandOutcome> {
  if (args.length < 1 || args.length > 2) throw new UserInputError('`/deploys stats` takes an environment and, optionally, a period.', `${STATS_USAGE} Environments: ${environmentNames(deps.config)}.`);
  const env = requireEnvironment(deps.config, args[0] as string, `${STATS_USAGE} Environments: ${environmentNames(deps.config)}.`);
  const periodMs = period(args[1], STATS_USAGE);
  const now = deps.now();
  const { stats } = await environmentStats(deps, env.name, now, periodMs);
  const message = statsBlocks(`DORA metrics · ${env.name} · ${periodLabel(periodMs)}`, statsRows(stats), definitions());
  // Posted in the channel (a chart needs a message to thread under); a redelivered command has the same trigger: one post, one upload.
  const key = `stats:${command.trigger_id}`;
  await deps.delivery.send({ key, channel: command.channel_id, ...message });
  await requestUpload(deps, `stats-${command.trigger_id}`, { kind: 'chart', env: env.name, periodMs, now, channel: command.channel_id, threadOf: key });
  return { reply: `:bar_chart: Posted ${env.name}'s DORA numbers for the ${periodLabel(periodMs)} in this channel; the chart follows in their thread.` };
}

/** `--user` as a Slack mention (`<@U123|alex>`), a user id, or `@name` looked up in the workspace. */
async function userOf(deps: Deps, word: string): Promise<string> {
  const id = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word)?.[1] ?? /^([UW][A-Z0-9]{2,})$/.exec(word)?.[1];
  if (id) return id;
  const name = word.replace(/^@/, '').toLowerCase();
  const lookup = deps.slack.users.list({ limit: 1000 }).then((r) => r.members?.find((m) => [m.name, m.profile?.display_name, m.real_name].some((n) => n?.toLowerCase() === name))?.id);
  const found = await Promise.race([lookup.catch(() => undefined), new Promise<undefined>((ok) => setTimeout(ok, 1000))]);
  if (!found) throw new UserInputError(`Shipmate can't tell who \`${word.slice(0, 40)}\` is: pick the person from Slack's list after \`--user @\`.`, LOG_USAGE);
  return found;
}

export async function deploysLog(deps: Deps, { command }: CommandArgs, args: string[]): Promise<CommandOutcome> {
  const usage = `${LOG_USAGE} Environments: ${environmentNames(deps.config)}.`;
  const [envWord, ...rest] = args;
  if (!envWord || envWord.startsWith('--')) throw new UserInputError('Say which environment\'s log to show.', usage);
  const env = requireEnvironment(deps.config, envWord, usage);
  const filter: LogFilter = {};
  let sinceText: string | undefined;
  let format: 'csv' | 'json' | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i] as string;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UserInputError(`\`${flag.slice(0, 20)}\` needs a value.`, usage);
    if (flag === '--since') {
      const back = /^\d+[mhdw]$/.test(value) ? ms(value as ms.StringValue) : undefined;
      const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : undefined;
      if (!back && !Number.isFinite(date)) throw new UserInputError(`\`${value.slice(0, 20)}\` is not a time to start from: use \`7d\`, \`12h\` or a date like \`2026-01-31\`.`, usage);
      filter.since = back ? deps.now() - back : (date as number);
      sinceText = value;
    } else if (flag === '--user') {
      filter.user = await userOf(deps, value);
    } else if (flag === '--status') {
      if (!(FINAL_STATUSES as readonly string[]).includes(value)) throw new UserInputError(`\`${value.slice(0, 20)}\` is not a status: use one of ${FINAL_STATUSES.join(', ')}.`, usage);
      filter.status = value as DeployStatus;
    } else if (flag === '--export') {
      if (value !== 'csv' && value !== 'json') throw new UserInputError('`--export` takes `csv` or `json`.', usage);
      format = value;
    } else {
      throw new UserInputError(`\`${flag.slice(0, 20)}\` is not an option of \`/deploys log\`.`, usage);
    }
  }
  const label = filterLabel(filter, sinceText);
  if (format) {
    await requestUpload(deps, `export-${command.trigger_id}`, {
      kind: 'export', env: env.name, filter, format, channel: command.channel_id, comment: `Deployment log of *${env.name}*${label ? ` (${label})` : ''}, as <@${command.user_id}> asked.`,
    });
    return { reply: `:inbox_tray: Exporting ${env.name}'s deployment log${label ? ` (${label})` : ''} as ${format.toUpperCase()}; the file will be posted in this channel.` };
  }
  const page = await deps.store.logPage({ env: env.name, ...filter, size: 10 });
  return { reply: logPageBlocks(page, { env: env.name, ...filter }, label) };
}
