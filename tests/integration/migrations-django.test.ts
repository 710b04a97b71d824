// FlowSpark-style migrations (migrations.style: django) end to end: a real directory of Django migration files
// (NNNN_name.py), a runner that is a real command recording what it was asked, the real Bolt receiver, real Redis.
// Forward migrates to the named migration; --rollback migrates to the one before it (`manage.py migrate app
// 0005_previous`); a migration with no previous one to go back to is refused, as is going back past a later one.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { MigrationStore } from '../../src/migrations/migration-store.js';
import { startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { idFrom } from '../helpers/worker-process.js';

const dir = mkdtempSync(join(tmpdir(), 'shipmate-django-'));
const migrations = join(dir, 'apps', 'billing', 'migrations');
mkdirSync(migrations, { recursive: true });
for (const f of ['__init__.py', '0001_initial.py', '0002_add_usage.py', '0003_tenant_index.py', 'README.md']) writeFileSync(join(migrations, f), '# django\n');
const asked = join(dir, 'asked.log');
writeFileSync(asked, '');
// The runner: a real script that records its arguments, as `python manage.py …` would receive them.
const runner = join(dir, 'manage.sh');
writeFileSync(runner, `#!/bin/sh\necho "$*" >> "${asked}"\n`, { mode: 0o755 });

const YAML = `
environments:
  - name: staging
    steps: [{ name: Deploy, run: ['true'] }]
    migrations:
      style: django
      app: billing
      directory: ${migrations}
      backup: { name: Backup, run: [${runner}, backup, '{{migration}}'] }
      run: { name: manage.py migrate, run: [${runner}, migrate, '{{app}}', '{{target}}', 'previous={{previousMigration}}', '{{direction}}'] }
      verify: { name: showmigrations, run: [${runner}, showmigrations, '{{app}}'] }
`;

let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

const lines = () => readFileSync(asked, 'utf8').trim().split('\n').filter(Boolean);
const state = (name: string) => new MigrationStore(bot.shipmate.deps.redis, bot.prefix).get('staging', name);

async function refused(text: string): Promise<string> {
  const before = lines().length;
  const reply = await bot.command('/migrate', text, 'U0ALICE');
  expect(reply.json.response_type).toBe('ephemeral');
  expect(reply.json.text).toContain('Nothing was queued.');
  expect(await bot.shipmate.deps.store.active()).toEqual([]);
  expect(lines()).toHaveLength(before);
  return reply.json.text ?? '';
}

async function migrated(text: string): Promise<string[]> {
  const before = lines().length;
  const id = idFrom((await bot.command('/migrate', text, 'U0ALICE')).json.text, 'migration');
  expect(id).not.toBe('');
  expect((await waitForEnd(bot, id)).status).toBe('succeeded');
  return lines().slice(before);
}

describe('/migrate with Django migrations (FlowSpark)', () => {
  it('refuses the first migration (no previous one to go back to) and an unknown one', async () => {
    expect(await refused('staging 0001_initial')).toContain(`\`0001_initial\` is the first migration in \`${migrations}\`: there is no previous migration to go back to (\`migrate billing <previous>\`)`);
    expect(await refused('staging 0009_nothing')).toContain(`There is no migration \`0009_nothing\` in \`${migrations}\``);
  });

  it('migrates forward to the named migration (by number too), recording it and the earlier ones it applied', async () => {
    expect(await migrated('staging 0002')).toEqual(['backup 0002_add_usage', 'migrate billing 0002_add_usage previous=0001_initial migrate', 'showmigrations billing']);
    expect((await state('0002_add_usage'))?.state).toBe('applied');
    expect((await state('0001_initial'))?.state).toBe('applied');
    expect(await migrated('staging 0003_tenant_index.py')).toEqual(['backup 0003_tenant_index', 'migrate billing 0003_tenant_index previous=0002_add_usage migrate', 'showmigrations billing']);
    const status = (await bot.command('/migrate', 'status staging', 'U0ALICE')).json.text ?? '';
    expect(status).toContain('`0003_tenant_index` — applied');
    expect(status).toContain('nothing pending');
  });

  it('--rollback migrates back to the previous migration; going back past a later applied one is refused', async () => {
    expect(await refused('staging 0002_add_usage --rollback')).toContain('would also undo `0003_tenant_index`: roll back the latest first (`/migrate staging 0003_tenant_index --rollback`)');
    expect(await migrated('staging 0003_tenant_index --rollback')).toEqual(['backup 0003_tenant_index', 'migrate billing 0002_add_usage previous=0002_add_usage rollback', 'showmigrations billing']);
    expect((await state('0003_tenant_index'))?.state).toBe('rolledBack');
    expect((await state('0002_add_usage'))?.state).toBe('applied');
    // now 0002 is the latest applied: it may go back to 0001_initial
    expect(await migrated('staging 0002_add_usage --rollback')).toContain('migrate billing 0001_initial previous=0001_initial rollback');
    expect(await refused('staging 0003_tenant_index --rollback')).toContain('is not applied on *staging*');
  });

  it('a config using {{app}} without migrations.app is refused, naming the field', () => {
    expect(() => parseConfig(YAML.replace('      app: billing\n', ''), 'flow.yml', {})).toThrow(/environments\.0\.migrations\.run.*\{\{app\}\} is used but migrations\.app/s);
    expect(parseConfig(YAML, 'flow.yml', {}).environments[0]?.migrations?.style).toBe('django');
  });
});
