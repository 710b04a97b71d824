// /deploy <env> [ref]: validates the request, checks who may deploy, queues the deploy, replies privately.
import { z } from 'zod';
import type { Config } from '../src/config.js';
import { audit } from '../src/deploy-store.js';
import type { Deps } from '../src/deps.js';
import { environmentNames, findEnvironment, nearestEnvironment } from '../src/environments.js';
import { NotAuthorizedError, UserInputError } from '../src/errors/index.js';
import { refProblem } from '../src/refs.js';
import { commandListener } from './respond.js';

export function deployUsage(config: Config): string {
  return `Usage: \`/deploy <environment> [ref]\` — e.g. \`/deploy staging v1.4.0\` or \`/deploy prod\`.\nEnvironments: ${environmentNames(config)}.`;
}

const deployArgs = z.strictObject({
  env: z.string().min(1),
  ref: z.string().optional(),
});

/** Splits `/deploy` text into environment and ref; throws UserInputError with the usage when it can't. */
export function parseDeployText(text: string, config: Config): { env: string; ref?: string } {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const usage = deployUsage(config);
  if (tokens.length === 0) throw new UserInputError('Which environment?', usage);
  const flag = tokens.find((t) => t.startsWith('--'));
  if (flag) throw new UserInputError(`Unknown option \`${flag.slice(0, 40)}\`.`, usage);
  if (tokens.length > 2) throw new UserInputError('Too many words: give an environment and at most one ref.', usage);
  const parsed = deployArgs.safeParse({ env: tokens[0], ref: tokens[1] });
  if (!parsed.success) throw new UserInputError('That is not a deploy request I understand.', usage);
  return parsed.data;
}

export function createDeployCommand(deps: Deps) {
  return commandListener('/deploy', deps, async ({ command }, log) => {
    const { config } = deps;
    const args = parseDeployText(command.text, config);
    const env = findEnvironment(config, args.env);
    if (!env) {
      const near = nearestEnvironment(config, args.env);
      throw new UserInputError(
        `There is no environment \`${args.env.slice(0, 40)}\`.${near ? ` Did you mean \`${near.name}\`?` : ''}`,
        deployUsage(config),
      );
    }
    const ref = args.ref ?? env.defaultRef;
    const problem = refProblem(ref);
    if (problem) {
      throw new UserInputError(`\`${ref.slice(0, 60).replace(/`/g, "'")}\` ${problem}. Give a tag (v1.4.0), a branch (main, release/1.4) or a commit sha.`, deployUsage(config));
    }
    if (!(await deps.roles.mayDeploy(env, command.user_id))) {
      await audit(deps.redis, deps.prefix, { action: 'deploy.refused', user: command.user_id, env: env.name, detail: `ref ${ref}: not in ${env.deployers.join(', ')}` });
      throw new NotAuthorizedError(`You may not deploy to ${env.name}: that needs the ${env.deployers.join(' or ')} role. Ask one of them, or whoever runs Shipmate.`);
    }
    const { record, position } = await deps.deploys.request({ env, ref, user: command.user_id, channel: command.channel_id });
    await audit(deps.redis, deps.prefix, { action: 'deploy.requested', user: command.user_id, env: env.name, deployId: record.id, detail: ref });
    log.info({ deployId: record.id, env: env.name, ref, position }, 'deploy queued');
    const where = position <= 1 ? 'queued, position 1 — starting now' : `queued, position ${position} — it starts when the ${position - 1} ahead of it finish`;
    return {
      reply: `Deploying \`${ref}\` to *${env.name}* (deploy #${record.id}) — ${where}. Follow it in the status message in this channel.`,
      after: () => deps.messenger.sync(record.id),
    };
  });
}
