// /deploy <env> [ref]: validates the request, checks who may deploy, queues the deploy, replies privately.
import ms from 'ms';
import { z } from 'zod';
import type { Config } from '../src/core/config.js';
import { audit, type DeployRecord } from '../src/deploys/deploy-store.js';
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { NotAuthorizedError, UserInputError } from '../src/core/errors.js';
import { refProblem } from '../src/core/refs.js';
import { roleLabel, type EnvironmentConfig } from '../src/core/config.js';
import { allItems, initialGates, summarize } from '../src/gates/gate-rules.js';
import { codeVersion, plural, queuePlace, versionLabel } from '../blocks/format.js';
import { waitingFor } from '../blocks/gate-message.js';
import { commandListener } from './respond.js';
import { envForKind, kindSummary } from '../src/gates/release-kinds.js';
import { lockText } from '../blocks/locks.js';
import { activeFreeze, nextWindow, openWindow, releaseDayStatus, soakProblem, windowsFor } from '../src/schedule/schedule.js';
import { formatBoth } from '../src/schedule/time-rules.js';
import { userTimeZone } from '../src/schedule/user-tz.js';

/** `--dry-run`: which gates apply to this deploy and what is missing; changes nothing. */
async function dryRunReply(deps: Deps, env: EnvironmentConfig, ref: string, shown: string, user: string, promotion: string | undefined, sensitive: boolean, hotfix: boolean, v: { version: string; sha?: string }): Promise<string> {
  const lines = [`*Dry run:* \`/deploy ${env.name} ${ref}\`${shown !== ref ? ` (${shown})` : ''} — nothing was queued or changed.`];
  lines.push(promotion ? `:x: Promotion: ${promotion}` : env.requires ? `:white_check_mark: Promotion: ${shown === ref ? `\`${ref}\`` : shown} has succeeded on ${env.requires.succeededOn}.` : ':white_check_mark: Promotion: no rule for this environment.');
  const items = allItems(env);
  if (items.length) {
    const auto = items.filter((i) => i.check);
    lines.push(`:clipboard: Checklist: ${plural(items.filter((i) => i.required).length, 'required item')} in ${plural(env.checklist.length, 'section')} (${env.checklist.map((s) => s.section).join(', ')})${auto.length ? `; ${auto.length} ticked automatically by a check: ${auto.map((i) => i.text).join(', ')}` : ''}.`);
  } else lines.push(':white_check_mark: Checklist: none.');
  const rules = env.approvals;
  if (rules) {
    const names = rules.roles.map((r) => roleLabel(deps.config, r));
    const eligible = new Set(rules.roles.flatMap((r) => deps.config.roles[r]?.users ?? []));
    if (!rules.allowRequester) eligible.delete(user);
    lines.push(`:lock: Approvals: ${rules.required} from ${names.join(', ')}${rules.distinctRoles ? ', each from a different role' : ''}${rules.allowRequester ? '' : '; you cannot approve your own deploy'}${rules.expiresAfter ? `; approvals expire after ${ms(rules.expiresAfter, { long: true })}` : ''}. Who can approve: ${[...eligible].map((u) => `<@${u}>`).join(', ') || 'members of the roles\' user groups'}.`);
    const must = [...new Set([...rules.requireRoles, ...(sensitive ? rules.sensitiveRequires : [])])];
    if (must.length) lines.push(`:lock: Must include: ${must.map((r) => roleLabel(deps.config, r)).join(' and ')}${sensitive ? ' (marked --sensitive)' : ''}.`);
    else if (rules.sensitiveRequires.length) lines.push(`With \`--sensitive\` it must also include ${rules.sensitiveRequires.map((r) => roleLabel(deps.config, r)).join(' and ')}.`);
  } else lines.push(':white_check_mark: Approvals: none.');
  if (env.postDeploySignoff) lines.push(`:memo: After the deploy: a sign-off by ${env.postDeploySignoff.label ?? roleLabel(deps.config, env.postDeploySignoff.role)}.`);
  lines.push(...(await timeLines(deps, env, v, user, hotfix)));
  lines.push(`Steps: ${env.steps.map((s, i) => `${i + 1}. ${s.name}`).join(' · ')}`);
  return lines.join('\n');
}

/**
 * The dry run's view of what stands between this deploy and now: the environment lock (src/deploys/locks.ts), a freeze,
 * the release calendar, the maintenance window and the soak time (src/schedule), each as the real request would judge it.
 */
async function timeLines(deps: Deps, env: EnvironmentConfig, v: { version: string; sha?: string }, user: string, hotfix: boolean): Promise<string[]> {
  const { config } = deps;
  const now = deps.now();
  const tz = await userTimeZone(deps, user);
  const lines: string[] = [];
  const lock = await deps.deploys.locks.get(env.name);
  if (lock) lines.push(`${hotfix && env.lock.allowHotfix ? ':white_check_mark:' : ':x:'} Lock: ${env.name} is locked ${lockText(lock)}.${env.lock.allowHotfix ? ` Hotfixes may still go out${hotfix ? ', so this one would' : ''}.` : ''} \`/deploys unlock ${env.name}\` lifts it.`);
  else lines.push(':white_check_mark: Lock: none.');
  const frozen = activeFreeze(config, env.name, now);
  if (frozen) {
    const passes = frozen.freeze.allowHotfix;
    lines.push(`${hotfix && passes ? ':white_check_mark:' : ':x:'} Freeze until ${formatBoth(frozen.end, tz)}: ${frozen.freeze.reason}. ${passes ? `A hotfix would pass (\`--hotfix\`)${hotfix ? ', as this one is' : ''}.` : 'Hotfixes are refused too.'}`);
  } else lines.push(':white_check_mark: Freeze: none now.');
  const day = releaseDayStatus(config, env.name, now);
  if (day) {
    const held = day.holdsRegular && !hotfix;
    const next = day.next ? `next: ${day.next.name}, ${formatBoth(day.next.start, tz)}` : 'none scheduled ahead';
    lines.push(`${held ? ':x:' : ':calendar:'} Release calendar (${day.names.join(', ')}${day.enforced ? ', enforced for regular releases' : ', shown only'}): ${day.today ? `today is a release day (${day.today})` : 'today is not a release day'}; ${next}.${day.holdsRegular ? (hotfix ? ' A hotfix goes out any day.' : ' A regular release waits for it; a hotfix goes out any day.') : ''}`);
  }
  if (env.migrations?.inWindow || windowsFor(config, env.name).length) {
    const open = openWindow(config, env.name, now);
    const next = open ? undefined : nextWindow(config, env.name, now);
    lines.push(`:wrench: Maintenance window: ${open ? `${open.name} is open until ${formatBoth(open.end, tz)}` : next ? `none open; the next (${next.name}) opens ${formatBoth(next.start, tz)}` : 'none ahead'}${env.migrations?.inWindow ? ' (migrations here run only inside one)' : ''}.`);
  }
  const soak = env.requires?.soakFor;
  if (soak && env.requires) {
    const since = await deps.store.succeededAt(env.requires.succeededOn, v.sha ? { version: v.version, sha: v.sha } : v.version);
    const problem = since === undefined ? undefined : soakProblem(env, v.version, since, now, tz);
    lines.push(since === undefined
      ? `:x: Soak: not on ${env.requires.succeededOn} yet; it must stay there ${ms(soak, { long: true })} first.`
      : problem ? `:x: Soak: ${problem}` : `:white_check_mark: Soak: on ${env.requires.succeededOn} for ${ms(now - since, { long: true })} (needs ${ms(soak, { long: true })}).`);
  }
  return lines;
}

/**
 * A link to a message built from its channel and ts, in the form chat.getPermalink returns, so a reply
 * inside an ack needs no Slack call. `teamDomain` comes with every slash command.
 */
export function messageLink(teamDomain: string, channel: string, ts: string): string {
  return `https://${teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

/** The reply when a request created nothing: a redelivery of one already handled, or the same version already waiting. */
export function existingDeployReply(existing: DeployRecord, reason: 'repeat' | 'duplicate', teamDomain: string): string {
  const what = `${existing.kind === 'rollback' ? 'rollback' : 'deploy'} #${existing.id}`;
  const ts = existing.status === 'pending' ? existing.gates?.gateTs : existing.statusTs ?? existing.gates?.gateTs;
  const where = ts && teamDomain ? ` <${messageLink(teamDomain, existing.channel, ts)}|Follow it here.>` : ` Follow it in <#${existing.channel}>.`;
  const state = existing.status === 'pending' ? 'waiting for its gates' : existing.status;
  if (reason === 'repeat') return `Already handled: ${what} (\`${existing.version}\` → *${existing.env}*, ${state}) — Slack delivered this request twice; nothing new was queued.${where}`;
  return `Already requested: ${what} of \`${existing.version}\` to *${existing.env}* by <@${existing.requestedBy}> is ${state}; nothing new was queued.${where}`;
}

export function deployUsage(config: Config): string {
  return `Usage: \`/deploy <environment> [ref] [--dry-run] [--sensitive] [--quiet] [--notify #channel] [--kind <release kind>]\` — e.g. \`/deploy staging v1.4.0\` or \`/deploy prod\`; \`/deploy help\` for more.\nEnvironments: ${environmentNames(config)}.`;
}

const deployArgs = z.strictObject({
  env: z.string().min(1),
  ref: z.string().optional(),
  dryRun: z.boolean(),
  sensitive: z.boolean(),
  quiet: z.boolean(),
  notify: z.array(z.string()).max(5, 'At most 5 extra channels with `--notify`.'),
  kind: z.string().optional(),
  hotfix: z.boolean(),
});

const FLAGS = new Set(['--dry-run', '--sensitive', '--quiet', '--notify', '--kind', '--hotfix']);

/**
 * The channel after `--notify`: Slack sends a picked channel as `<#C123|name>` (or `<#C123>`) in command text;
 * a bare id works too. A typed `#name` that Slack did not turn into a link cannot be resolved without a lookup.
 */
export function parseChannelRef(token: string | undefined, usage: string): string {
  const m = /^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(token ?? '') ?? /^([CG][A-Z0-9]{2,})$/.exec(token ?? '');
  if (m?.[1]) return m[1];
  if (token === undefined || token.startsWith('--')) throw new UserInputError('`--notify` needs a channel after it, e.g. `--notify #releases`.', usage);
  throw new UserInputError(`\`${token.slice(0, 40).replace(/`/g, "'")}\` is not a channel Slack linked: pick it from the list Slack offers as you type \`#\`, so it arrives as a channel link.`, usage);
}

/** `--kind hotfix`: a release kind from the config (src/releases/kinds.ts), whose rules the deploy's gates follow. */
function parseKind(word: string | undefined, config: Config, usage: string): string {
  const names = Object.keys(config.releaseKinds);
  if (!names.length) throw new UserInputError('`--kind` needs release kinds in the config (`releaseKinds:`); this one has none.', usage);
  if (!word || word.startsWith('--')) throw new UserInputError(`\`--kind\` needs a release kind after it: ${names.map((n) => `\`${n}\``).join(', ')}.`, usage);
  if (!Object.hasOwn(config.releaseKinds, word)) throw new UserInputError(`\`${word.slice(0, 40).replace(/`/g, "'")}\` is not a release kind here; the kinds are ${names.map((n) => `\`${n}\``).join(', ')}.`, usage);
  return word;
}

/** Splits `/deploy` text into environment, ref and flags; throws UserInputError with the usage when it can't. */
export function parseDeployText(text: string, config: Config): z.infer<typeof deployArgs> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const usage = deployUsage(config);
  const unknown = words.find((t) => t.startsWith('--') && !FLAGS.has(t));
  if (unknown) throw new UserInputError(`Unknown option \`${unknown.slice(0, 40)}\`.`, usage);
  // `--notify` takes the next word as its channel.
  const notify: string[] = [];
  let kind: string | undefined;
  const all = words.filter((t, i) => {
    if (words[i - 1] === '--notify' || words[i - 1] === '--kind') return false;
    if (t === '--notify') notify.push(parseChannelRef(words[i + 1], usage));
    if (t === '--kind') kind = parseKind(words[i + 1], config, usage);
    return true;
  });
  if (all.includes('--quiet') && notify.length) throw new UserInputError('`--quiet` and `--notify` contradict each other: choose one.', usage);
  const tokens = all.filter((t) => !FLAGS.has(t));
  if (tokens.length === 0) throw new UserInputError('Which environment?', usage);
  if (tokens.length > 2) throw new UserInputError('Too many words: give an environment and at most one ref.', usage);
  const parsed = deployArgs.safeParse({ env: tokens[0], ref: tokens[1], dryRun: all.includes('--dry-run'), sensitive: all.includes('--sensitive'), quiet: all.includes('--quiet'), notify: [...new Set(notify)], kind, hotfix: all.includes('--hotfix') });
  if (!parsed.success) throw new UserInputError(parsed.error.issues.find((i) => i.path[0] === 'notify')?.message ?? 'That is not a deploy request I understand.', usage);
  return parsed.data;
}

export function createDeployCommand(deps: Deps) {
  return commandListener('/deploy', deps, async ({ command }, log, signal) => {
    const { config } = deps;
    const args = parseDeployText(command.text, config);
    const env = requireEnvironment(config, args.env, deployUsage(config));
    const ref = args.ref ?? env.defaultRef;
    const problem = refProblem(ref);
    if (problem) {
      throw new UserInputError(`\`${ref.slice(0, 60).replace(/`/g, "'")}\` ${problem}. Give a tag (v1.4.0), a branch (main, release/1.4) or a commit sha.`, deployUsage(config));
    }
    if (!(await deps.roles.mayDeploy(env, command.user_id))) {
      await audit(deps.redis, deps.prefix, { action: 'deploy.refused', user: command.user_id, env: env.name, detail: `ref ${ref}: not in ${env.deployers.join(', ')}` });
      throw new NotAuthorizedError(`You may not deploy to ${env.name}: that needs the ${env.deployers.map((r) => roleLabel(config, r)).join(' or ')} role. Ask someone who has it, or whoever runs Shipmate.`);
    }
    // Where versions are commits, the ref becomes one now (unknown: refused with the nearest names); nothing is queued before.
    const resolved = await deps.deploys.resolveRef(env, ref, signal);
    const version = { ref, version: resolved?.tag ?? ref, ...(resolved ? { sha: resolved.sha } : {}) };
    const shown = versionLabel(version);
    const promotion = await deps.deploys.promotionProblem(env, version, command.user_id);
    if (args.sensitive && !env.approvals?.sensitiveRequires.length) {
      throw new UserInputError(`\`--sensitive\` changes nothing on ${env.name}: its config names no sign-off for sensitive changes (approvals.sensitiveRequires).`, deployUsage(config));
    }
    if (args.dryRun) {
      const reply = await dryRunReply(deps, envForKind(config, env, args.kind), ref, shown, command.user_id, promotion, args.sensitive, args.hotfix, version);
      return { reply: args.kind ? `${reply}\n${kindSummary(config, args.kind, 'from --kind')}` : reply };
    }
    if (promotion) {
      await audit(deps.redis, deps.prefix, { action: 'deploy.refused', user: command.user_id, env: env.name, detail: `ref ${ref}: promotion rule` });
      throw new UserInputError(promotion);
    }
    const outcome = await deps.deploys.request({ env, ref, ...(resolved ? { resolved } : {}), user: command.user_id, channel: command.channel_id, sensitive: args.sensitive, hotfix: args.hotfix || undefined, delivery: command.trigger_id, signal,
      ...(args.kind ? { release: { kind: args.kind } } : {}),
      notify: args.quiet || args.notify.length ? { quiet: args.quiet || undefined, channels: args.notify.length ? args.notify : undefined } : undefined });
    if (outcome.existing) return { reply: existingDeployReply(outcome.existing, outcome.reason, command.team_domain) };
    const { record, position } = outcome;
    if (record.status === 'pending') {
      log.info({ deployId: record.id, env: env.name, ref }, 'deploy waiting for gates');
      const waiting = waitingFor(summarize(env, record.gates ?? initialGates(env)));
      return {
        reply: `Deploy #${record.id} of ${codeVersion(record)} to *${env.name}* is waiting for its gates (${waiting}). The gate message in this channel shows the checklist and sign-offs; it starts by itself once they are met.`,
        after: async () => {
          await deps.messenger.syncGate(record.id);
          const fresh = await deps.store.get(record.id);
          if (fresh) await deps.gates.notifyApprovers(fresh);
        },
      };
    }
    log.info({ deployId: record.id, env: env.name, ref, position }, 'deploy queued');
    return {
      reply: `Deploying ${codeVersion(record)} to *${env.name}* (deploy #${record.id}) — ${queuePlace(position, env.name)}. Follow it in the status message in this channel.`,
      after: () => deps.messenger.sync(record.id),
    };
  }, { helpWhenEmpty: true });
}
