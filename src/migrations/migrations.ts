// Migration rules without Slack: how a migration's paired scripts are named and found (or, style django, where a
// migration sits among the app's NNNN_name.py files and which one comes before it), which steps a migrate record
// runs (backup, the script, verify — from the environment's `migrations:` config) and their variables.
import { existsSync, readdirSync } from 'node:fs';
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
  if (m.style === 'django') return djangoMigrations(m.directory).map((d) => d.name);
  const { readdir } = await import('node:fs/promises');
  const names = await readdir(m.directory).catch(() => [] as string[]);
  return names.filter((f) => f.startsWith(m.migratePrefix) && f.endsWith(m.extension)).map((f) => f.slice(0, f.length - m.extension.length)).sort();
}

// ── style django: one app's migrations, NNNN_name.py, in number order; the way back is the one before ──

const DJANGO_FILE = /^(\d{4,})_([A-Za-z0-9_]+)\.py$/;

export interface DjangoMigration {
  name: string;
  number: number;
  file: string;
}

/** The app's migrations under `directory` in number order (__init__.py and anything else left out). */
export function djangoMigrations(directory: string): DjangoMigration[] {
  let files: string[];
  try {
    files = readdirSync(directory);
  } catch {
    return [];
  }
  return files
    .flatMap((f) => {
      const m = DJANGO_FILE.exec(f);
      return m ? [{ name: f.slice(0, -3), number: Number(m[1]), file: join(directory, f) }] : [];
    })
    .sort((a, b) => a.number - b.number || a.name.localeCompare(b.name));
}

/**
 * The Django migration `typed` names (its full name, with or without .py, or just its number: 0006) with the one
 * before it — where `manage.py migrate app <previous>` takes the database back to. Undefined when there is none such.
 */
export function djangoMigration(m: MigrationsConfig, typed: string): { migration: DjangoMigration; previous?: DjangoMigration; later: DjangoMigration[] } | undefined {
  const all = djangoMigrations(m.directory);
  const base = typed.endsWith('.py') ? typed.slice(0, -3) : typed;
  const at = /^\d+$/.test(base) ? all.findIndex((d) => d.number === Number(base)) : all.findIndex((d) => d.name === base);
  const migration = all[at];
  if (!migration) return undefined;
  return { migration, ...(at > 0 ? { previous: all[at - 1] } : {}), later: all.slice(at + 1) };
}

/** Step variables of a migrate record: the deploy's, plus {{migration}}, {{file}}, {{direction}}, {{target}}, {{previousMigration}} and {{app}}. */
export function migrationVars(env: EnvironmentConfig, record: { migration?: { name: string; rollback: boolean } }, base: DeployVars): DeployVars {
  const m = env.migrations;
  if (!m || !record.migration) return base;
  const rollback = record.migration.rollback;
  const direction = rollback ? 'rollback' : 'migrate';
  // renderTemplate looks names up on the object, so the extra variables ride along with the deploy's.
  if (m.style === 'django') {
    const found = djangoMigration(m, record.migration.name);
    const previous = found?.previous?.name ?? '';
    const name = found?.migration.name ?? record.migration.name;
    return { ...base, migration: name, file: found?.migration.file ?? '', direction, target: rollback ? previous : name, previousMigration: previous, app: m.app ?? '' } as DeployVars;
  }
  const files = migrationFiles(m, record.migration.name);
  const script = rollback ? files.rollbackName : files.name;
  return { ...base, migration: script, file: rollback ? files.rollbackFile : files.migrateFile, direction, target: script, previousMigration: '', app: m.app ?? '' } as DeployVars;
}
