// Requesting a migration: every rule checked before anything is written (a way back: the paired rollback script,
// or for Django migrations a previous migration to migrate back to; applied on the previous environment first, not applied twice, production inside a maintenance window),
// then a deploy record of kind 'migrate' goes into the environment's own queue, so it never runs beside a
// deploy or a rollback of that environment. Outside the window, with an override role configured, it waits
// for that role's sign-off through the deploy gates instead of being refused.
import type { EnvironmentConfig } from '../core/config.js';
import { roleLabel } from '../core/config.js';
import { ConflictError, UserInputError } from '../core/errors.js';
import { audit, type DeployRecord } from '../deploys/deploy-store.js';
import type { Deps } from '../deps.js';
import { initialGates } from '../gates/gate-rules.js';
import { nextWindow, openWindow } from '../schedule/schedule.js';
import { formatBoth } from '../schedule/time-rules.js';
import { userTimeZone } from '../schedule/user-tz.js';
import { MigrationStore } from './migration-store.js';
import { MIGRATION_NAME, djangoMigration, djangoMigrations, knownMigrations, migrationFiles, missingFile } from './migrations.js';
import { gateEnvironment } from './override.js';

export interface MigrationRequest {
  env: EnvironmentConfig;
  name: string;
  rollback: boolean;
  user: string;
  channel: string;
  delivery?: string;
  signal?: AbortSignal;
}

export type MigrationOutcome =
  | { record: DeployRecord; position: number; existing?: undefined }
  | { existing: DeployRecord; reason: 'repeat' | 'duplicate' };

export async function requestMigration(deps: Deps, req: MigrationRequest): Promise<MigrationOutcome> {
  const { env } = req;
  const m = env.migrations;
  if (!m) {
    const some = deps.config.environments.filter((e) => e.migrations).map((e) => e.name);
    throw new UserInputError(`${env.name} has no migrations configured (\`migrations:\` in its config).${some.length ? ` Environments with migrations: ${some.join(', ')}.` : ''}`);
  }
  if (!MIGRATION_NAME.test(req.name)) throw new UserInputError(`\`${req.name.slice(0, 60).replace(/`/g, "'")}\` is not a migration name: letters, digits, _ . and - only, e.g. \`${m.style === 'django' ? '0006_add_usage' : `${m.migratePrefix}20260207_add_usage_constraints`}\`.`);
  let refused = req.name;
  const refuse = async (why: string, detail: string): Promise<never> => {
    await audit(deps.redis, deps.prefix, { action: 'migrate.refused', user: req.user, env: env.name, detail: `${refused}: ${detail}` }, deps.now());
    throw new UserInputError(`${why} Nothing was queued.`);
  };
  const store = new MigrationStore(deps.redis, deps.prefix);
  // What the migration is called and what its way back is: the paired rollback script, or (django) the migration before it.
  let files: { name: string; rollbackName: string };
  if (m.style === 'django') {
    const found = djangoMigration(m, req.name);
    if (!found) return refuse(`There is no migration \`${req.name}\` in \`${m.directory}\` (Django migration files \`NNNN_name.py\`).`, 'no migration');
    refused = found.migration.name;
    if (!found.previous) {
      await refuse(`\`${found.migration.name}\` is the first migration in \`${m.directory}\`: there is no previous migration to go back to (\`migrate ${m.app ?? '<app>'} <previous>\`), and every migration needs a way back before it may run.`, 'no previous migration');
    }
    files = { name: found.migration.name, rollbackName: found.previous?.name ?? '' };
    if (req.rollback) {
      // Migrating back to the one before also unapplies every later one: those must be rolled back first, by name.
      const later = (await Promise.all(found.later.map(async (d) => ((await store.isApplied(env.name, d.name)) ? [d.name] : [])))).flat();
      if (later.length) await refuse(`Going back to \`${files.rollbackName}\` on *${env.name}* would also undo ${later.map((n) => `\`${n}\``).join(', ')}: roll back the latest first (\`/migrate ${env.name} ${later[later.length - 1]} --rollback\`).`, 'later migrations applied');
    }
  } else {
    const paired = migrationFiles(m, req.name);
    refused = paired.name;
    const missing = missingFile(paired);
    if (missing === paired.migrateFile && !req.rollback) await refuse(`There is no migration script \`${paired.migrateFile}\`.`, 'no script');
    if (missing === paired.rollbackFile || (req.rollback && missing)) {
      await refuse(`\`${paired.name}\` has no paired rollback script: looked for \`${paired.rollbackFile}\`. Every migration needs its rollback before it may run.`, 'no rollback script');
    }
    files = paired;
  }
  const here = await store.get(env.name, files.name);
  if (req.rollback) {
    if (here?.state !== 'applied') await refuse(`\`${files.name}\` is not applied on *${env.name}*, so there is nothing to roll back.`, 'not applied');
  } else {
    if (here?.state === 'applied') await refuse(`\`${files.name}\` is already applied on *${env.name}* (by <@${here.by}>, migration #${here.deployId}).`, 'already applied');
    const previous = env.requires?.succeededOn;
    if (previous && !(await store.isApplied(previous, files.name))) {
      await refuse(`\`${files.name}\` has not been applied on *${previous}* yet, and ${env.name} takes migrations only after it. Run it there first: \`/migrate ${previous} ${files.name}\`.`, `not applied on ${previous}`);
    }
  }
  req.signal?.throwIfAborted();
  // Forward migrations only inside a maintenance window; a rollback of one is the way out and is never held.
  const now = deps.now();
  let override: { role: string; reason: string } | undefined;
  if (m.inWindow && !req.rollback && !openWindow(deps.config, env.name, now)) {
    const next = nextWindow(deps.config, env.name, now);
    const tz = await userTimeZone(deps, req.user);
    const when = next ? `The next window (${next.name}) opens ${formatBoth(next.start, tz)}.` : 'No window is scheduled ahead.';
    if (!m.overrideRole) await refuse(`Migrations on *${env.name}* run only inside a maintenance window. ${when}`, 'outside the maintenance window');
    override = { role: m.overrideRole ?? '', reason: `outside the maintenance window. ${when}` };
  }
  req.signal?.throwIfAborted();
  const gated = override !== undefined;
  const direction = req.rollback ? 'rollback' : 'migrate';
  const migration = { name: files.name, rollback: req.rollback, ...(override ? { override } : {}) };
  const gateEnv = gateEnvironment(env, { kind: 'migrate', migration });
  const result = await deps.store.createOnce({
    env: env.name,
    ref: files.name,
    version: req.rollback ? files.rollbackName : files.name,
    requestedBy: req.user,
    channel: req.channel,
    kind: 'migrate',
    migration,
    status: gated ? 'pending' : 'queued',
    createdAt: now,
    queuedAt: gated ? undefined : now,
    gates: gated ? initialGates(gateEnv) : undefined,
    notify: { quiet: true },
    steps: [m.backup, m.run, m.verify].map((s) => ({ name: s.name, kind: 'run' in s ? 'run' : 'workflow' in s ? 'github-workflow' : 'http', status: 'pending' })),
  }, { delivery: req.delivery, unique: true, audit: { action: `migrate.requested`, user: req.user, env: env.name, detail: `${direction} ${files.name}${override ? ' (outside the window: override asked)' : ''}` } });
  if (!('created' in result)) {
    const existing = await deps.store.get(result.existing);
    if (!existing) throw new ConflictError(`Migration #${result.existing} no longer exists; try again.`);
    return { existing, reason: result.reason };
  }
  const record = result.created;
  if (!gated) await deps.queues.enqueue(env.name, record.id);
  const position = gated ? 0 : await deps.messenger.position(record).catch(() => 1);
  return { record, position };
}

/** Called by the worker when a migrate record succeeds: the migration is now applied (or rolled back) there. */
export async function recordMigrationDone(deps: Pick<Deps, 'redis' | 'prefix' | 'config'>, record: DeployRecord, at: number): Promise<void> {
  if (!record.migration) return;
  const store = new MigrationStore(deps.redis, deps.prefix);
  const done = { at, by: record.requestedBy, deployId: record.id };
  await store.record(record.env, { name: record.migration.name, state: record.migration.rollback ? 'rolledBack' : 'applied', ...done });
  // Django migrates forward to the named one through every earlier one: those not applied there are applied now.
  const m = deps.config.environments.find((e) => e.name === record.env)?.migrations;
  if (m?.style !== 'django' || record.migration.rollback) return;
  const all = djangoMigrations(m.directory);
  const target = all.find((d) => d.name === record.migration?.name);
  for (const d of all) {
    if (target && d.number < target.number && !(await store.isApplied(record.env, d.name))) await store.record(record.env, { name: d.name, state: 'applied', ...done });
  }
}

/** `/migrate status [env]`: what is applied where, when and by whom, and what is pending. */
export async function migrationStatus(deps: Deps, only?: EnvironmentConfig): Promise<string> {
  const store = new MigrationStore(deps.redis, deps.prefix);
  const envs = (only ? [only] : deps.config.environments).filter((e) => e.migrations);
  if (envs.length === 0) return only ? `${only.name} has no migrations configured.` : 'No environment has migrations configured.';
  const lines: string[] = [];
  const running = (await deps.store.active()).filter((r) => r.kind === 'migrate');
  for (const env of envs) {
    const m = env.migrations!;
    const states = await store.all(env.name);
    const known = await knownMigrations(m);
    const byName = new Map(states.map((s) => [s.name, s]));
    lines.push(`*${env.name}*${m.inWindow ? ' (maintenance window only' + (m.overrideRole ? `, or with ${roleLabel(deps.config, m.overrideRole)} approval)` : ')') : ''}`);
    for (const s of states) lines.push(`• \`${s.name}\` — ${s.state === 'applied' ? 'applied' : 'rolled back'} ${formatBoth(s.at)} by <@${s.by}> (#${s.deployId})`);
    for (const r of running.filter((x) => x.env === env.name)) lines.push(`• \`${r.migration?.name ?? r.version}\` — ${r.migration?.rollback ? 'rollback ' : ''}${r.status === 'pending' ? 'waiting for sign-off' : r.status} (#${r.id}, <@${r.requestedBy}>)`);
    const pending = known.filter((n) => byName.get(n)?.state !== 'applied' && !running.some((r) => r.env === env.name && r.migration?.name === n));
    lines.push(pending.length ? `• pending: ${pending.map((n) => `\`${n}\``).join(', ')}` : '• nothing pending');
  }
  return lines.join('\n');
}
