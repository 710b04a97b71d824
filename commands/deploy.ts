// /deploy <env> [ref]: validates the request, checks who may deploy, queues the deploy, replies privately.
import ms from 'ms';
import { z } from 'zod';
import type { Config } from '../src/core/config.js';
import { audit } from '../src/deploys/deploy-store.js';
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { NotAuthorizedError, UserInputError } from '../src/core/errors.js';
import { refProblem } from '../src/core/refs.js';
import { roleLabel, type EnvironmentConfig } from '../src/core/config.js';
import { allItems, initialGates, summarize } from '../src/gates/gate-rules.js';
import { commandListener } from './respond.js';

/** `--dry-run`: which gates apply to this deploy and what is missing; changes nothing. */
async function dryRunReply(deps: Deps, env: EnvironmentConfig, ref: string, user: string, promotion: string | undefined, sensitive: boolean): Promise<string> {
  const lines = [`*Dry run:* \`/deploy ${env.name} ${ref}\` — nothing was queued or changed.`];
  lines.push(promotion ? `:x: Promotion: ${promotion}` : env.requires ? `:white_check_mark: Promotion: \`${ref}\` has succeeded on ${env.requires.succeededOn}.` : ':white_check_mark: Promotion: no rule for this environment.');
  const items = allItems(env);
  if (items.length) {
    const auto = items.filter((i) => i.check);
    lines.push(`:clipboard: Checklist: ${items.filter((i) => i.required).length} required item(s) in ${env.checklist.length} section(s) (${env.checklist.map((s) => s.section).join(', ')})${auto.length ? `; ${auto.length} ticked automatically by a check: ${auto.map((i) => i.text).join(', ')}` : ''}.`);
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
  lines.push(`Steps: ${env.steps.map((s, i) => `${i + 1}. ${s.name}`).join(' · ')}`);
  return lines.join('\n');
}

export function deployUsage(config: Config): string {
  return `Usage: \`/deploy <environment> [ref] [--dry-run] [--sensitive]\` — e.g. \`/deploy staging v1.4.0\` or \`/deploy prod\`.\nEnvironments: ${environmentNames(config)}.`;
}

const deployArgs = z.strictObject({
  env: z.string().min(1),
  ref: z.string().optional(),
  dryRun: z.boolean(),
  sensitive: z.boolean(),
});

const FLAGS = new Set(['--dry-run', '--sensitive']);

/** Splits `/deploy` text into environment, ref and flags; throws UserInputError with the usage when it can't. */
export function parseDeployText(text: string, config: Config): { env: string; ref?: string; dryRun: boolean; sensitive: boolean } {
  const all = text.trim().split(/\s+/).filter(Boolean);
  const usage = deployUsage(config);
  const unknown = all.find((t) => t.startsWith('--') && !FLAGS.has(t));
  if (unknown) throw new UserInputError(`Unknown option \`${unknown.slice(0, 40)}\`.`, usage);
  const tokens = all.filter((t) => !FLAGS.has(t));
  if (tokens.length === 0) throw new UserInputError('Which environment?', usage);
  if (tokens.length > 2) throw new UserInputError('Too many words: give an environment and at most one ref.', usage);
  const parsed = deployArgs.safeParse({ env: tokens[0], ref: tokens[1], dryRun: all.includes('--dry-run'), sensitive: all.includes('--sensitive') });
  if (!parsed.success) throw new UserInputError('That is not a deploy request I understand.', usage);
  return parsed.data;
}

export function createDeployCommand(deps: Deps) {
  return commandListener('/deploy', deps, async ({ command }, log) => {
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
      throw new NotAuthorizedError(`You may not deploy to ${env.name}: that needs the ${env.deployers.join(' or ')} role. Ask one of them, or whoever runs Shipmate.`);
    }
    const promotion = await deps.deploys.promotionProblem(env, ref);
    if (args.sensitive && !env.approvals?.sensitiveRequires.length) {
      throw new UserInputError(`\`--sensitive\` changes nothing on ${env.name}: its config names no sign-off for sensitive changes (approvals.sensitiveRequires).`, deployUsage(config));
    }
    if (args.dryRun) return { reply: await dryRunReply(deps, env, ref, command.user_id, promotion, args.sensitive) };
    if (promotion) {
      await audit(deps.redis, deps.prefix, { action: 'deploy.refused', user: command.user_id, env: env.name, detail: `ref ${ref}: promotion rule` });
      throw new UserInputError(promotion);
    }
    const { record, position } = await deps.deploys.request({ env, ref, user: command.user_id, channel: command.channel_id, sensitive: args.sensitive });
    await audit(deps.redis, deps.prefix, { action: 'deploy.requested', user: command.user_id, env: env.name, deployId: record.id, detail: ref });
    if (record.status === 'pending') {
      log.info({ deployId: record.id, env: env.name, ref }, 'deploy waiting for gates');
      const summary = summarize(env, record.gates ?? initialGates(env));
      const waiting = [summary.missingItems.length ? `${summary.missingItems.length} checklist items` : '', summary.approvalsNeeded ? `${summary.approvalsNeeded} approvals` : ''].filter(Boolean).join(' and ');
      return {
        reply: `Deploy #${record.id} of \`${ref}\` to *${env.name}* is waiting for its gates (${waiting}). The gate message in this channel shows the checklist and sign-offs; it starts by itself once they are met.`,
        after: async () => {
          await deps.messenger.syncGate(record.id);
          const fresh = await deps.store.get(record.id);
          if (fresh) await deps.gates.notifyApprovers(fresh);
        },
      };
    }
    log.info({ deployId: record.id, env: env.name, ref, position }, 'deploy queued');
    const where = position <= 1 ? 'queued, position 1 — starting now' : `queued, position ${position} — it starts when the ${position - 1} ahead of it finish`;
    return {
      reply: `Deploying \`${ref}\` to *${env.name}* (deploy #${record.id}) — ${where}. Follow it in the status message in this channel.`,
      after: () => deps.messenger.sync(record.id),
    };
  });
}
