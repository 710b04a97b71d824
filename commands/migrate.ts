// /migrate <env> <name> [--rollback] | /migrate status [env]: asks for a migration (src/migrations) and replies
// privately with where it stands; every refusal names what is missing, and nothing is queued then.
import type { Deps } from '../src/deps.js';
import { environmentNames, requireEnvironment } from '../src/deploys/environments.js';
import { NotAuthorizedError, UserInputError } from '../src/core/errors.js';
import { audit } from '../src/deploys/deploy-store.js';
import { roleLabel } from '../src/core/config.js';
import { migrationStatus, requestMigration } from '../src/migrations/migration-service.js';
import { queuePlace } from '../blocks/format.js';
import { existingDeployReply } from './deploy.js';
import { commandListener } from './respond.js';

export function migrateUsage(deps: Deps): string {
  const withMigrations = deps.config.environments.filter((e) => e.migrations).map((e) => e.name);
  return `Usage: \`/migrate <environment> <migration> [--rollback]\` or \`/migrate status [environment]\` — e.g. \`/migrate staging migrate_20260207_add_usage_constraints\`. Environments with migrations: ${withMigrations.join(', ') || 'none'} (all: ${environmentNames(deps.config)}).`;
}

export function createMigrateCommand(deps: Deps) {
  return commandListener('/migrate', deps, async ({ command }, log, signal) => {
    const usage = migrateUsage(deps);
    const words = command.text.trim().split(/\s+/).filter(Boolean);
    if (words[0]?.toLowerCase() === 'status') {
      if (words.length > 2) throw new UserInputError('`/migrate status` takes at most one environment.', usage);
      return { reply: await migrationStatus(deps, words[1] ? requireEnvironment(deps.config, words[1], usage) : undefined) };
    }
    const unknown = words.find((w) => w.startsWith('--') && w !== '--rollback');
    if (unknown) throw new UserInputError(`Unknown option \`${unknown.slice(0, 40)}\`.`, usage);
    const rollback = words.includes('--rollback');
    const rest = words.filter((w) => w !== '--rollback');
    if (rest.length === 0) throw new UserInputError('Which environment?', usage);
    if (rest.length === 1) throw new UserInputError('Which migration?', usage);
    if (rest.length > 2) throw new UserInputError('Too many words: give an environment and one migration.', usage);
    const [envName = '', name = ''] = rest;
    const env = requireEnvironment(deps.config, envName, usage);
    if (!(await deps.roles.mayDeploy(env, command.user_id))) {
      await audit(deps.redis, deps.prefix, { action: 'migrate.refused', user: command.user_id, env: env.name, detail: `${name}: not allowed` });
      throw new NotAuthorizedError(`You may not migrate ${env.name}: that needs the ${env.deployers.map((r) => roleLabel(deps.config, r)).join(' or ')} role.`);
    }
    const outcome = await requestMigration(deps, { env, name, rollback, user: command.user_id, channel: command.channel_id, delivery: command.trigger_id, signal });
    if (outcome.existing) return { reply: existingDeployReply(outcome.existing, outcome.reason, command.team_domain) };
    const { record, position } = outcome;
    const what = `${rollback ? 'Rollback of migration' : 'Migration'} \`${record.migration?.name ?? name}\` on *${env.name}* (migration #${record.id})`;
    if (record.status === 'pending') {
      log.info({ deployId: record.id, env: env.name, migration: name }, 'migration waits for an override');
      const role = record.migration?.override?.role ?? '';
      return {
        reply: `${what} is ${record.migration?.override?.reason ?? 'outside the maintenance window.'} It waits for a sign-off from ${roleLabel(deps.config, role)} to run now; the gate message in this channel has the button.`,
        after: async () => {
          await deps.messenger.syncGate(record.id);
          const fresh = await deps.store.get(record.id);
          if (fresh) await deps.gates.notifyApprovers(fresh);
        },
      };
    }
    log.info({ deployId: record.id, env: env.name, migration: name, position }, 'migration queued');
    return {
      reply: `${what} — ${queuePlace(position, env.name)}: backup, then the script, then verify. Follow it in the status message in this channel.`,
      after: () => deps.messenger.sync(record.id),
    };
  }, { helpWhenEmpty: true });
}
