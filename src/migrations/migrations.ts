// Migration rules without Slack: how a migration's paired scripts are named and found, which steps a migrate
// record runs (backup, the script, verify — from the environment's `migrations:` config) and their variables.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentConfig, MigrationsConfig } from '../core/config.js';
import type { DeployVars } from '../core/template.js';

/** A migration name as typed: letters, digits, _ . - (it becomes a file name, so no slashes). */
export const MIGRATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$/;

export interface MigrationFiles {
  /** The migration's name with its migrate prefix: migrate_20260207_add_usage_constraints. */
  name: string;
  rollbackName: string;
  migrateFile: string;
  rollbackFile: string;
}

/** The paired scripts of a migration; `typed` may leave out the migrate prefix and the extension. */
export function migrationFiles(m: MigrationsConfig, typed: string): MigrationFiles {
  let base = m.extension && typed.endsWith(m.extension) ? typed.slice(0, -m.extension.length) : typed;
  if (m.rollbackPrefix && base.startsWith(m.rollbackPrefix)) base = m.migratePrefix + base.slice(m.rollbackPrefix.length);
  const name = base.startsWith(m.migratePrefix) ? base : m.migratePrefix + base;
  const rollbackName = m.rollbackPrefix + name.slice(m.migratePrefix.length);
  return { name, rollbackName, migrateFile: join(m.directory, name + m.extension), rollbackFile: join(m.directory, rollbackName + m.extension) };
}

/** The file that is missing for this migration (the paired rollback first: without it nothing runs), or undefined. */
export function missingFile(files: MigrationFiles): string | undefined {
  if (!existsSync(files.migrateFile)) return files.migrateFile;
  if (!existsSync(files.rollbackFile)) return files.rollbackFile;
  return undefined;
}

/** Migration names under the directory (for `/migrate status`: what is pending). */
export async function knownMigrations(m: MigrationsConfig): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const names = await readdir(m.directory).catch(() => [] as string[]);
  return names.filter((f) => f.startsWith(m.migratePrefix) && f.endsWith(m.extension)).map((f) => f.slice(0, f.length - m.extension.length)).sort();
}

/** Step variables of a migrate record: the deploy's, plus {{migration}}, {{file}} and {{direction}}. */
export function migrationVars(env: EnvironmentConfig, record: { migration?: { name: string; rollback: boolean } }, base: DeployVars): DeployVars {
  const m = env.migrations;
  if (!m || !record.migration) return base;
  const files = migrationFiles(m, record.migration.name);
  const rollback = record.migration.rollback;
  // renderTemplate looks names up on the object, so the extra variables ride along with the deploy's.
  return { ...base, migration: rollback ? files.rollbackName : files.name, file: rollback ? files.rollbackFile : files.migrateFile, direction: rollback ? 'rollback' : 'migrate' } as DeployVars;
}
