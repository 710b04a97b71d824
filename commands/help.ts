// What each slash command does, who may use it and examples taken from the loaded config: the text of
// `/<command> help` and of `/shipmate`. The usage hints are the manifest's (a test keeps them equal).
import type { Config, EnvironmentConfig } from '../src/core/config.js';
import { roleLabel } from '../src/core/config.js';
import { allItems } from '../src/gates/gate-rules.js';
import { plural } from '../blocks/format.js';

interface CommandHelp {
  /** The manifest's usage_hint: what follows the command name. */
  hint: string;
  /** One line: what it does (the manifest's description says the same, shorter). */
  does: string;
  /** Who may use it, from the config's roles. */
  who(config: Config): string;
  /** Example calls with what each does, built from the config's environments. */
  examples(config: Config): Array<[string, string]>;
  /** Anything else worth knowing (per-environment rules). */
  more?(config: Config): string[];
}

/** `help`, `-h`, `--help` or `?` as the whole text asks a command for its help. */
export function isHelpRequest(text: string): boolean {
  return /^(help|-h|--help|\?)$/i.test(text.trim());
}

const first = (c: Config): EnvironmentConfig | undefined => c.environments[0];
const last = (c: Config): EnvironmentConfig | undefined => c.environments.at(-1);

function deployers(config: Config, env: EnvironmentConfig): string {
  return env.deployers.length ? `people with the ${env.deployers.map((r) => roleLabel(config, r)).join(' or ')} role` : 'everyone';
}

/** "dev, staging: everyone · production: people with the Engineer role" — environments grouped by who may deploy. */
function whoDeploys(config: Config): string {
  const groups = new Map<string, string[]>();
  for (const env of config.environments) groups.set(deployers(config, env), [...(groups.get(deployers(config, env)) ?? []), env.name]);
  if (groups.size === 1) return `${[...groups.keys()][0] ?? 'everyone'}, on every environment`;
  return [...groups].map(([who, envs]) => `${envs.join(', ')}: ${who}`).join(' · ');
}

function envLine(config: Config, env: EnvironmentConfig): string {
  const rules: string[] = [deployers(config, env) === 'everyone' ? 'anyone may deploy' : `only ${deployers(config, env)}`];
  if (env.requires) rules.push(`takes versions that succeeded on ${env.requires.succeededOn}`);
  const items = allItems(env).filter((i) => i.required).length;
  if (items) rules.push(`a checklist of ${plural(items, 'item')}`);
  if (env.approvals) rules.push(`${plural(env.approvals.required, 'approval')} (${env.approvals.roles.map((r) => roleLabel(config, r)).join(', ')})`);
  return `• *${env.name}*${env.aliases.length ? ` (${env.aliases.join(', ')})` : ''} — ${rules.join('; ')}`;
}

/** A `set` example for a value type the config has (a number, else a JSON object), none when all flags are boolean. */
function valueExample(c: Config, env: string): Array<[string, string]> {
  const types = Object.values(c.flags.types).map((t) => t.value);
  if (types.includes('number')) return [[`/flag max_rows set 500 ${env}`, 'set a value, checked against the flag\'s value type']];
  if (types.includes('json')) return [[`/flag limits set {"rows": 500} ${env}`, 'set a JSON value, checked against the flag\'s value type']];
  return [];
}

export const COMMAND_HELP = {
  '/deploy': {
    hint: '<env> [ref] [--dry-run] [--sensitive] [--hotfix] [--quiet] [--notify #channel]',
    does: 'Deploys a ref (a tag, branch or commit) to an environment: checks who may, the promotion rule and the gates, then runs its steps.',
    who: whoDeploys,
    examples: (c) => {
      const a = first(c);
      const z = last(c);
      if (!a || !z) return [];
      const out: Array<[string, string]> = [[`/deploy ${a.name} v1.4.0`, `deploy tag v1.4.0 to ${a.name}`], [`/deploy ${a.name}`, `deploy ${a.name}'s default ref (\`${a.defaultRef}\`)`]];
      out.push([`/deploy ${z.name} v1.4.0 --dry-run`, 'list the gates and what is missing, changing nothing']);
      const sensitive = c.environments.find((e) => e.approvals?.sensitiveRequires.length);
      if (sensitive) out.push([`/deploy ${sensitive.name} v1.4.0 --sensitive`, `also ask ${sensitive.approvals?.sensitiveRequires.map((r) => roleLabel(c, r)).join(' and ')} to sign off`]);
      out.push([`/deploy ${a.name} v1.4.0 --quiet`, 'tell no stakeholder or announcement channel about this deploy']);
      out.push([`/deploy ${z.name} v1.4.0 --notify #support`, `also tell #support what the ${z.name} stakeholders hear`]);
      return out;
    },
    more: (c) => ['*Environments:*', ...c.environments.map((e) => envLine(c, e))],
  },
  '/rollback': {
    hint: '<env> [version] [reason]',
    does: "Puts back the previous good version of an environment (or a named one that succeeded there), after you confirm. It skips the gates, goes ahead of waiting deploys (never beside a running one), runs the environment's rollback steps (or its deploy steps with the old version), tells the stakeholders, schedules a post-mortem reminder and leaves the environment locked with the reason until someone unlocks it.",
    who: whoDeploys,
    examples: (c) => {
      const z = last(c);
      return z ? [[`/rollback ${z.name}`, `put back ${z.name}'s previous good version`], [`/rollback ${z.name} v1.3.2`, `put back v1.3.2, if it succeeded on ${z.name} before`], [`/rollback ${z.name} "login 500s"`, 'the previous good version, with the reason (a reason without a version goes in quotes)']] : [];
    },
  },
  '/deploys': {
    hint: '[env] | windows [env] | lock <env> "reason" | unlock <env> | stats <env> [30d] | log <env> [--since 7d] [--user @x] [--status failed] [--export csv|json]',
    does: "Shows every environment's current version, who deployed it and when, what runs or waits now, locks, and the latest deploy-log entries. `windows` lists the next maintenance windows, freezes and release days. `lock` refuses deploys to an environment until `unlock` (rollbacks always pass); a successful rollback locks it too. `stats` gives DORA metrics with a chart, `log` pages through or exports the deployment log.",
    who: () => 'everyone; lock and unlock: the environment\'s deployers and approvers',
    examples: (c) => {
      const z = last(c);
      return [
        ['/deploys', 'every environment'],
        ['/deploys windows', 'maintenance windows, freezes and release days ahead, in UTC and your time zone'],
        ...(z ? [
          [`/deploys ${z.name}`, `only ${z.name}`],
          [`/deploys lock ${z.name} "investigating checkout errors"`, `refuse deploys to ${z.name} for now`],
          [`/deploys unlock ${z.name}`, 'let deploys go there again'],
          [`/deploys stats ${z.name} 30d`, `deployment frequency, lead time, change failure rate and time to restore of ${z.name}, with bands, trends and a chart`],
          [`/deploys log ${z.name} --since 7d --status failed`, `${z.name}'s failed deploys of the last week, page by page`],
          [`/deploys log ${z.name} --export csv`, 'the whole log as a CSV file in this channel'],
        ] as Array<[string, string]> : []),
      ];
    },
  },
  '/migrate': {
    hint: '<env> <migration> [--rollback] | status [env]',
    does: "Runs a database migration through the environment's queue (never beside a deploy there): backup, the script, verify. It needs its paired rollback script and must have run on the previous environment first; production migrations may need a maintenance window.",
    who: whoDeploys,
    examples: (c) => {
      const z = c.environments.filter((e) => e.migrations).at(-1);
      const name = z?.migrations ? `${z.migrations.migratePrefix}20260207_add_usage_constraints` : 'migrate_20260207_add_usage_constraints';
      return [
        ...(z ? [[`/migrate ${z.name} ${name}`, `apply it on ${z.name}`] as [string, string], [`/migrate ${z.name} ${name} --rollback`, 'run its paired rollback script'] as [string, string]] : []),
        ['/migrate status', 'what is applied where, when and by whom, and what is pending'],
      ];
    },
  },
  '/release': {
    hint: 'minor|major|patch|<version> [--dry-run] | status | resume',
    does: 'Releases the default branch: the next semver version, a release branch, notes from conventional commits (editable), every environment with its gates, then the tag, the GitHub release, the announcement and the merge back.',
    who: (c) => whoDeploys(c),
    examples: () => [['/release minor', 'the next minor version (a major if the commits have breaking changes)'], ['/release 1.5.0 --dry-run', 'show the version, the branch and the notes, creating nothing'], ['/release status', 'where the current release stands']],
    more: (c) => Object.keys(c.releaseKinds).length ? ['*Release kinds:*', ...Object.entries(c.releaseKinds).map(([name, k]) => `• *${name}*${k.for.length ? ` (${k.for.join(', ')})` : ''}${k.why ? ` — ${k.why}` : ''}`)] : [],
  },
  '/hotfix': {
    hint: '"what is broken" [--skip-staging] | resume',
    does: 'Starts a hotfix when one of the hotfix criteria applies: a hotfix/ branch from what production runs, the expedited process, then tag, merge back and post-hotfix tasks.',
    who: (c) => whoDeploys(c),
    examples: () => [['/hotfix "login returns 500"', 'asks which criterion applies, then branches the hotfix'], ['/hotfix "login returns 500" --skip-staging', 'skip staging, when the hotfix kind allows it']],
  },
  '/shipmate': {
    hint: '[command]',
    does: 'Lists every Shipmate command, what it does and who may use it.',
    who: () => 'everyone',
    examples: () => [['/shipmate', 'this list'], ['/shipmate deploy', 'how `/deploy` works, with examples']],
  },
  '/flag': {
    hint: 'list [env] | <key> [on|off|25%|set <value> <env>] | create <key> <type> "<description>" | kill <key> <env> | archive|history <key>',
    does: 'Feature flags: shows them, creates them, turns them on or off, rolls them out by percentage, sets values, kills them; every change audited and announced. Services read them over OFREP.',
    who: (c) => {
      const limited = Object.entries(c.flags.changers).filter(([, roles]) => roles.length);
      if (!limited.length) return 'everyone';
      return `${limited.map(([env, roles]) => `${env}: the flag's owner or the ${roles.map((r) => roleLabel(c, r)).join(' or ')} role`).join(' · ')} · elsewhere everyone`;
    },
    examples: (c) => {
      const a = first(c)?.name ?? 'dev';
      const z = last(c)?.name ?? 'prod';
      const type = Object.keys(c.flags.types)[0] ?? 'release';
      return [
        ['/flag list', 'every flag and its state per environment'],
        [`/flag create new_query_ui ${type} "New query UI"`, 'a new flag, off everywhere, owned by you'],
        [`/flag new_query_ui on ${a}`, `turn it on in ${a}`],
        [`/flag new_query_ui 25% ${z}`, `serve it to 25% of users in ${z} (sticky per user; those in at 10% stay in)`],
        ...valueExample(c, z),
        [`/flag kill search ${z}`, 'kill switch: off at once, asks why, tells the stakeholders'],
        ['/flag history new_query_ui', 'every change: who, when, where, before → after, why'],
      ];
    },
    more: (c) => [`*Types:* ${Object.entries(c.flags.types).map(([t, d]) => `${t} (${d.value}${d.signoff.length ? `; sign-off in ${d.signoff.join(', ')}` : ''})`).join(', ')}.`],
  },
} satisfies Record<string, CommandHelp>;

export type SlashCommand = keyof typeof COMMAND_HELP;

function isCommand(name: string): name is SlashCommand {
  return Object.hasOwn(COMMAND_HELP, name);
}

/** `/deploy help`: usage, what it does, who may use it, examples from the config. */
export function commandHelp(name: string, config: Config): string {
  if (!isCommand(name)) return allCommandsHelp(config);
  const help: CommandHelp = COMMAND_HELP[name];
  return [
    `*\`${name} ${help.hint}\`*`,
    help.does,
    `*Who:* ${help.who(config)}.`,
    '*Examples:*',
    ...help.examples(config).map(([call, what]) => `• \`${call}\` — ${what}`),
    ...(help.more?.(config) ?? []),
  ].join('\n');
}

/** `/shipmate`: every command in one reply, and how to get more. */
export function allCommandsHelp(config: Config): string {
  const approvers = [...new Set(config.environments.flatMap((e) => e.approvals?.roles ?? []))].map((r) => roleLabel(config, r));
  return [
    '*Shipmate runs your release process from Slack.* Its commands:',
    ...Object.entries(COMMAND_HELP).map(([name, help]: [string, CommandHelp]) => `• \`${name} ${help.hint}\` — ${help.does} _Who: ${help.who(config)}._`),
    ...(approvers.length ? [`Sign-offs are buttons on a deploy's gate message (and on the Shipmate Home tab), for ${approvers.join(', ')}.`] : []),
    'Add `help` to any command for its examples, e.g. `/deploy help`.',
  ].join('\n');
}

/** For `/shipmate <command>`: the command a word names ("deploy", "/deploy"), if any. */
export function commandNamed(word: string): SlashCommand | undefined {
  const name = `/${word.replace(/^\//, '').toLowerCase()}`;
  return isCommand(name) ? name : undefined;
}
