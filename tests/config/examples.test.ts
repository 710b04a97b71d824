// The shipped configs (examples/*.yml, one per seed team, and the default shipmate.yml) load and
// say what their seeds say; an invalid file is refused with the path of the bad field and why.
import { nextWindow, soakProblem, timeRulesProblem } from '../../src/schedule/schedule.js';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, roleLabel, type Config, type EnvironmentConfig } from '../../src/core/config.js';
import { renderTemplate, templateProblems, type DeployVars } from '../../src/core/template.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const exampleFiles = readdirSync(join(root, 'examples'))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => `examples/${f}`);
const shippedFiles = [...exampleFiles, 'shipmate.yml'];

/** Loads a shipped file with an environment holding nothing but what is passed. */
function load(file: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig(join(root, file), env);
}

function environment(config: Config, name: string): EnvironmentConfig {
  const found = config.environments.find((e) => e.name === name);
  if (!found) throw new Error(`no environment ${name} (have ${config.environments.map((e) => e.name).join(', ')})`);
  return found;
}

/** The environment a name or alias resolves to, as /deploy would. */
function resolve(config: Config, nameOrAlias: string): string | undefined {
  return config.environments.find((e) => e.name === nameOrAlias || e.aliases.includes(nameOrAlias))?.name;
}

/** production -> staging -> dev: the environments a version must have passed, nearest first. */
function promotionChain(config: Config, name: string): string[] {
  const chain: string[] = [];
  let current = environment(config, name).requires?.succeededOn;
  while (current) {
    if (chain.includes(current) || current === name) throw new Error(`promotion cycle through ${current}`);
    chain.push(current);
    current = environment(config, current).requires?.succeededOn;
  }
  return chain;
}

function runSteps(env: EnvironmentConfig) {
  return env.steps.flatMap((s) => ('run' in s ? [s] : []));
}

function httpSteps(env: EnvironmentConfig) {
  return env.steps.flatMap((s) => ('http' in s ? [s] : []));
}

function argvs(env: EnvironmentConfig): string[] {
  return runSteps(env).map((s) => s.run.join(' '));
}

/** The environment's `/rollback` steps' argv, as argvs() does for its deploy steps. */
function rollbackArgvs(env: EnvironmentConfig): string[] {
  return (env.rollback?.steps ?? []).flatMap((s) => ('run' in s ? [s.run.join(' ')] : []));
}

function checklistItems(env: EnvironmentConfig) {
  return env.checklist.flatMap((s) => s.items);
}

/** {{weight}} and {{track}} are filled by the canary/monitor watch itself, not by the deploy. */
const watchOwn = (text: string) => text.replace(/\{\{\s*(weight|track)\s*\}\}/g, '');

/** Every string that is rendered with {{variables}} at deploy time. */
function templatedStrings(config: Config): string[] {
  return config.environments.flatMap((env) => [
    ...[...env.steps, ...(env.rollback?.steps ?? [])].flatMap((s) => ('run' in s ? [...s.run, ...Object.values(s.env)] : 'workflow' in s ? [s.workflow.ref, ...Object.values(s.workflow.inputs)] : 'http' in s ? [s.http.url, ...Object.values(s.http.headers)] : 'canary' in s ? [...('run' in s.canary.setWeight ? s.canary.setWeight.run : [s.canary.setWeight.workflow.ref, ...Object.values(s.canary.setWeight.workflow.inputs)]).map(watchOwn), ...s.canary.metrics.map((m) => watchOwn(m.query)), ...(s.canary.abort?.run ?? [])] : [...s.monitor.metrics.map((m) => watchOwn(m.query)), ...(s.monitor.abort?.run ?? [])])),
    ...checklistItems(env).flatMap((item) => (item.check ? ('run' in item.check ? item.check.run : 'http' in item.check ? [item.check.http] : []) : [])),
  ]);
}

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'bad.yml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^Invalid config bad\.yml:/);
    return (err as ConfigError).problems;
  }
  throw new Error('parseConfig accepted an invalid config');
}

describe('shipped configs', () => {
  it('ships one example per seed team', () => {
    expect(exampleFiles).toEqual(['examples/academiclab.yml', 'examples/flowspark.yml', 'examples/ontos.yml', 'examples/sarvanom.yml']);
  });

  describe.each(shippedFiles)('%s', (file) => {
    const text = readFileSync(join(root, file), 'utf8');

    it('loads with an empty environment and with PORT set', () => {
      expect(() => load(file)).not.toThrow();
      expect(load(file, { PORT: '3000' })).toEqual(load(file));
    });

    it('starts with a comment saying where it comes from', () => {
      expect(text.split('\n')[0]).toMatch(/^# \S/);
    });

    it('gives every ${VAR} a default', () => {
      const code = text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n');
      expect(code.match(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g) ?? []).toEqual([]);
    });

    it('defines every role it references', () => {
      const config = load(file);
      for (const env of config.environments) {
        const referenced = [...env.deployers, ...(env.approvals?.roles ?? []), ...(env.postDeploySignoff ? [env.postDeploySignoff.role] : [])];
        for (const role of referenced) expect(config.roles, `${env.name} references ${role}`).toHaveProperty(role);
      }
    });

    it('asks for no more approvals than its approvers can give', () => {
      const config = load(file);
      for (const env of config.environments) {
        if (!env.approvals) continue;
        const roles = env.approvals.roles.map((r) => config.roles[r]);
        if (env.approvals.distinctRoles) expect(env.approvals.required).toBeLessThanOrEqual(env.approvals.roles.length);
        if (roles.some((r) => r?.groups.length)) continue; // group members are only known at run time
        const people = new Set(roles.flatMap((r) => r?.users ?? []));
        expect(people.size, `${env.name}: ${env.approvals.required} approvals from ${people.size} people`).toBeGreaterThanOrEqual(env.approvals.required);
      }
    });

    it('has promotion chains that end (no cycles) and point backwards in the file', () => {
      const config = load(file);
      const order = config.environments.map((e) => e.name);
      for (const env of config.environments) {
        const chain = promotionChain(config, env.name);
        for (const earlier of chain) expect(order.indexOf(earlier)).toBeLessThan(order.indexOf(env.name));
      }
    });

    it('uses only the variables a deploy provides, and none in step names (they are shown as written)', () => {
      const config = load(file);
      expect(templatedStrings(config).flatMap(templateProblems)).toEqual([]);
      for (const env of config.environments) for (const step of env.steps) expect(step.name).not.toContain('{{');
    });

    it('has unique step names per environment and http(s) URLs', () => {
      const config = load(file);
      for (const env of config.environments) {
        const names = env.steps.map((s) => s.name);
        expect(new Set(names).size, env.name).toBe(names.length);
        for (const step of httpSteps(env)) expect(step.http.url).toMatch(/^https?:\/\//);
      }
    });
  });
});

describe.each(exampleFiles)('%s deploys the resolved commit', (file) => {
  const config = load(file);

  it('names a repository, so refs resolve to commits', () => {
    expect(config.repository).toBeTruthy();
  });

  it('every environment uses {{sha}} in its steps, and none deploys a moving name (origin/{{ref}}, an image tagged {{version}} or {{ref}})', () => {
    for (const env of config.environments) {
      const args = runSteps(env).flatMap((s) => s.run);
      expect(args.some((a) => a.includes('{{sha}}')), env.name).toBe(true);
      expect(args.filter((a) => /origin\/\{\{ref\}\}|:\{\{(version|ref)\}\}/.test(a)), env.name).toEqual([]);
    }
  });

  it('builds and deploys only after checking out the commit, in the same checkout', () => {
    for (const env of config.environments) {
      const steps = runSteps(env);
      const checkout = steps.findIndex((s) => s.run.join(' ') === 'git checkout --detach {{sha}}');
      if (checkout < 0) continue; // Academic Lab pushes the commit instead (its own test)
      expect(steps.findIndex((s) => s.run.join(' ') === 'git fetch origin {{sha}}'), env.name).toBe(checkout - 1);
      // Whatever reads the tree (builds, tests, bundles, manifests) runs after the checkout and in it.
      for (const [i, step] of steps.entries()) {
        if (['docker build', 'databricks bundle', 'kubectl apply', 'pytest', 'npm', 'pip', './scripts'].some((p) => step.run.join(' ').startsWith(p))) {
          expect(i, `${env.name}: ${step.name}`).toBeGreaterThan(checkout);
          const checkoutDir = steps[checkout]?.cwd ?? '';
          expect(step.cwd === checkoutDir || step.cwd?.startsWith(`${checkoutDir}/`), `${env.name}: ${step.name} runs in ${step.cwd}`).toBe(true);
        }
      }
    }
  });

  it('sets deployers only where its seed restricts who may deploy (none does), and says so', () => {
    expect(config.environments.map((e) => e.deployers)).toEqual(config.environments.map(() => []));
    expect(readFileSync(join(root, file), 'utf8')).toMatch(/^#.*deployers:? +not set/m);
  });
});

describe('examples/ontos.yml (Ontos ML Workbench)', () => {
  const config = load('examples/ontos.yml');
  const production = environment(config, 'production');

  it('rolls production back by redeploying the bundle of the commit put back, then restoring the tables, then checking /health', () => {
    expect(rollbackArgvs(production)).toEqual([
      'git fetch origin {{sha}}',
      'git checkout --detach {{sha}}',
      'databricks bundle deploy -t {{env}}',
      'databricks sql exec --file=schemas/restore_tables.sql --warehouse-id=set-PROD_WAREHOUSE_ID --profile={{env}}',
    ]);
    const rollback = production.rollback?.steps ?? [];
    expect(rollback.at(-1)).toMatchObject({ http: { url: 'https://ontos-ml-workbench.example.com/health', json: { path: 'status', equals: 'healthy' } } });
    // the restore runs once, never again after a crash (it is not marked retry-safe)
    expect(rollback.find((s) => s.name.startsWith('Restore tables'))?.retrySafe).toBe(false);
    expect(environment(config, 'dev').rollback).toBeUndefined(); // dev and staging roll back with their deploy steps
  });

  it('runs paired migrate_/rollback_ scripts with databricks sql exec, backup first and /health after, production only in the window or with the Ops Lead', () => {
    for (const env of config.environments) {
      const m = env.migrations!;
      expect([m.migratePrefix, m.rollbackPrefix, m.extension]).toEqual(['migrate_', 'rollback_', '.sql']);
      expect(m.directory).toBe('./schemas');
      expect('run' in m.run && m.run.run.slice(0, 4)).toEqual(['databricks', 'sql', 'exec', '--file={{file}}']);
      expect('run' in m.backup && m.backup.run).toContain('--file=schemas/backup_all_tables.sql');
      expect('http' in m.verify && m.verify.http.json).toEqual({ path: 'status', equals: 'healthy' });
      expect([m.inWindow, m.overrideRole]).toEqual(env.name === 'production' ? [true, 'ops_lead'] : [false, undefined]);
    }
  });

  it('runs dev -> staging -> production, with prod and prd as aliases', () => {
    expect(config.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'production']);
    expect(promotionChain(config, 'production')).toEqual(['staging', 'dev']);
    expect(resolve(config, 'prod')).toBe('production');
    expect(resolve(config, 'development')).toBe('dev');
  });

  it('deploys every environment with `databricks bundle deploy -t {{env}}` from the checked-out commit', () => {
    for (const env of config.environments) {
      const all = argvs(env);
      expect(all.slice(0, 2), env.name).toEqual(['git fetch origin {{sha}}', 'git checkout --detach {{sha}}']);
      expect(all, env.name).toContain('databricks bundle deploy -t {{env}}');
      expect(runSteps(env).find((s) => s.run[0] === 'databricks' && s.run[1] === 'bundle')?.cwd).toBe('.');
    }
  });

  it('smoke-tests /health expecting {"status": "healthy"} after every deploy', () => {
    for (const env of config.environments) {
      const health = httpSteps(env).filter((s) => s.http.url.endsWith('/health'));
      expect(health.length, env.name).toBeGreaterThan(0);
      for (const step of health) expect(step.http.json).toEqual({ path: 'status', equals: 'healthy' });
    }
  });

  it('backs up, deploys, monitors for an hour, then smoke-tests production, in that order', () => {
    const names = production.steps.map((s) => s.name);
    const at = (pattern: RegExp) => names.findIndex((n) => pattern.test(n));
    expect(names.slice(0, 3)).toEqual(['Fetch the commit', 'Check out the commit', 'Back up tables to ontos_ml_backups']);
    expect(at(/bundle deploy/)).toBeGreaterThan(at(/back up/i));
    expect(at(/monitor for 1 hour/i)).toBeGreaterThan(at(/bundle deploy/));
    expect(at(/smoke test/i)).toBeGreaterThan(at(/monitor for 1 hour/i));
    const monitor = production.steps.find((s) => /monitor/i.test(s.name));
    if (!monitor || !('monitor' in monitor)) throw new Error('the 1-hour monitor is not a monitor step');
    expect(monitor.monitor.duration).toBe(60 * 60_000);
    expect(monitor.monitor.metrics.map((m) => m.name)).toEqual(['error rate']);
    expect(monitor.monitor.abort?.run.join(' ')).toMatch(/git checkout --detach .*databricks bundle deploy/);
    expect(monitor.monitor.abort?.run).toContain('{{previousSha}}');
    expect(monitor.retrySafe).toBe(true);
  });

  it('has the full pre-deployment checklist, one item per bold group, in the seed sections', () => {
    expect(production.checklist.map((s) => s.section)).toEqual(['Infrastructure', 'Security', 'Code Quality', 'Configuration', 'Documentation']);
    const groups = production.checklist.map((s) => s.items.map((i) => i.text.split(':')[0]));
    expect(groups).toEqual([
      ['Databricks Workspace', 'Unity Catalog', 'SQL Warehouse', 'Storage'],
      ['Authentication & Authorization', 'Secrets Management', 'Network Security', 'Data Security'],
      ['Backend', 'Frontend', 'CI', 'Database'],
      ['Backend Configuration', 'Frontend Configuration', 'Database Configuration'],
      ['Technical Documentation', 'User Documentation', 'Operational Documentation'],
    ]);
    expect(checklistItems(production).every((i) => i.required)).toBe(true);
  });

  it('ticks only what CI verifies from GitHub (the seed CI jobs on the commit); coverage and linters stay manual', () => {
    const automatic = checklistItems(production).filter((i) => i.check);
    expect(automatic.map((i) => [i.id, i.check])).toEqual([['ci', { github: { statuses: ['test-backend', 'test-frontend'] } }]]);
    expect(checklistItems(production).find((i) => i.id === 'backend')?.text).toMatch(/coverage > 80%/);
  });

  it('deploys dev by itself on every merge to main', () => {
    expect(config.autoDeploy).toEqual([{ on: 'push', branch: 'main', environment: 'dev' }]);
    expect(config.repository).toBe('ontos-ml/ontos-ml-workbench');
  });

  it('needs the four sign-offs of the seed table, one per role, never the requester', () => {
    expect(production.approvals).toMatchObject({ required: 4, distinctRoles: true, allowRequester: false });
    expect(production.approvals?.roles.map((r) => roleLabel(config, r))).toEqual(['Tech Lead', 'Product Owner', 'Security Lead', 'Operations Lead']);
  });

  it('has the product team sign off staging after the deploy', () => {
    expect(environment(config, 'staging').postDeploySignoff?.role).toBe('product_team');
    expect(config.roles.product_team?.groups.length).toBeGreaterThan(0);
  });

  it('masks the Databricks credentials', () => {
    expect(config.secrets).toEqual(expect.arrayContaining(['DATABRICKS_TOKEN', 'DATABRICKS_CLIENT_SECRET', 'ONTOS_API_TOKEN']));
  });

  it('points the smoke tests at the app URL from the environment when it is set', () => {
    const withUrl = load('examples/ontos.yml', { ONTOS_PROD_URL: 'https://ontos.internal.test' });
    expect(httpSteps(environment(withUrl, 'production'))[0]?.http.url).toBe('https://ontos.internal.test/health');
  });
});

describe('examples/flowspark.yml (FlowSpark AI)', () => {
  const config = load('examples/flowspark.yml');
  const staging = environment(config, 'staging');
  const production = environment(config, 'production');

  it('rolls production back to the image of the commit put back, follows the rollout, then checks health', () => {
    expect(rollbackArgvs(production)).toEqual([
      'kubectl set image deployment/flowspark-backend backend=flowspark/backend:{{sha}} -n {{env}}',
      'kubectl rollout status deployment/flowspark-backend -n {{env}} --timeout=10m',
    ]);
    expect(production.rollback?.steps.at(-1)).toMatchObject({ name: 'Health check', http: { json: { path: 'status', equals: 'healthy' } } });
    // no migrate step: a rollback cannot know which migration to go back to (§7.2 names one: /migrate … --rollback)
    expect(rollbackArgvs(production).some((a) => a.includes('migrate'))).toBe(false);
  });

  it('deploys staging before main (production)', () => {
    expect(config.environments.map((e) => e.name)).toEqual(['staging', 'production']);
    expect(production.requires).toEqual({ succeededOn: 'staging' });
    expect(resolve(config, 'main')).toBe('production');
    expect([staging.defaultRef, production.defaultRef]).toEqual(['staging', 'main']);
  });

  it('builds and pushes the SHA-tagged images of the checked-out commit on staging only', () => {
    expect(argvs(staging).slice(0, 6)).toEqual([
      'git fetch origin {{sha}}',
      'git checkout --detach {{sha}}',
      'docker build -t flowspark/backend:{{sha}} .',
      'docker push flowspark/backend:{{sha}}',
      'docker build -t flowspark/frontend:{{sha}} ./frontend',
      'docker push flowspark/frontend:{{sha}}',
    ]);
    expect(argvs(production).some((a) => a.startsWith('docker ') || a.startsWith('git '))).toBe(false);
  });

  it('runs and migrates with the image of the commit; no step runs `kubectl rollout undo` (a rollback sets the earlier SHA)', () => {
    for (const env of [staging, production]) {
      const images = runSteps(env).flatMap((s) => s.run).filter((a) => a.includes('flowspark/backend:'));
      expect(images.every((a) => a.endsWith('flowspark/backend:{{sha}}')), env.name).toBe(true);
      expect(argvs(env).some((a) => a.includes('rollout undo')), env.name).toBe(false);
    }
  });

  it('sets the image, waits for the rollout, then migrates, on both environments', () => {
    for (const env of [staging, production]) {
      const all = argvs(env);
      const setImage = all.indexOf('kubectl set image deployment/flowspark-backend backend=flowspark/backend:{{sha}} -n {{env}}');
      const rollout = all.findIndex((a) => a.startsWith('kubectl rollout status deployment/flowspark-backend'));
      const migrate = all.findIndex((a) => a.startsWith('kubectl run migration-job') && a.endsWith('python manage.py migrate'));
      expect(setImage).toBeGreaterThanOrEqual(0);
      expect(rollout).toBeGreaterThan(setImage);
      expect(migrate).toBeGreaterThan(rollout);
      expect(httpSteps(env).at(-1)?.http).toMatchObject({ json: { path: 'status', equals: 'healthy' } });
      expect(httpSteps(env).at(-1)?.http.url).toMatch(/\/health\/$/);
    }
  });

  it('/migrate runs Django migrations (§5.2, §7.2): backup, a migration pod migrating to the target, showmigrations; a rollback targets the previous migration', async () => {
    const checkout = mkdtempSync(join(tmpdir(), 'shipmate-flowspark-'));
    const apps = join(checkout, 'apps', 'core', 'migrations');
    mkdirSync(apps, { recursive: true });
    for (const f of ['__init__.py', '0004_usage.py', '0005_previous_migration.py', '0006_tenant_index.py']) writeFileSync(join(apps, f), '# django\n');
    // kubectl and aws stand-ins on PATH that record what they were asked (kubectl get answers with an image).
    const bin = join(checkout, 'bin');
    mkdirSync(bin);
    const asked = join(checkout, 'asked.log');
    for (const tool of ['kubectl', 'aws']) writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${asked}"\n[ "$1" = get ] && echo flowspark/backend:abc123\nexit 0\n`, { mode: 0o755 });
    const loaded = load('examples/flowspark.yml', { FLOWSPARK_CHECKOUT: checkout });
    for (const name of ['staging', 'production']) {
      const m = environment(loaded, name).migrations!;
      expect([m.style, m.app, m.directory, m.inWindow]).toEqual(['django', 'core', `${checkout}/apps/core/migrations`, false]);
    }
    const prod = environment(loaded, 'production');
    const run = promisify(execFile);
    const base: DeployVars = { env: 'production', version: '0006_tenant_index', ref: '0006_tenant_index', user: 'U0FLOWLEAD', deployId: '9' };
    const { migrationVars } = await import('../../src/migrations/migrations.js');
    for (const rollback of [false, true]) {
      writeFileSync(asked, '');
      const vars = migrationVars(prod, { migration: { name: '0006_tenant_index', rollback } }, base);
      for (const step of [prod.migrations!.backup, prod.migrations!.run, prod.migrations!.verify]) {
        if (!('run' in step)) throw new Error(`${step.name} is not a command`);
        const [file = '', ...args] = step.run.map((a) => renderTemplate(a, vars));
        await run(file, args, { cwd: checkout, env: { PATH: `${bin}:${process.env.PATH}` } });
      }
      const lines = readFileSync(asked, 'utf8').trim().split('\n');
      const target = rollback ? '0005_previous_migration' : '0006_tenant_index';
      expect(lines[0]).toBe('kubectl exec deployment/flowspark-backend -n production -- sh -c pg_dump "$DATABASE_URL"');
      expect(lines[1]).toMatch(/^aws s3 cp \/tmp\/flowspark_backup_production_\d{8}_\d{6}\.sql s3:\/\/flowspark-backups\/database\/production\/$/);
      expect(lines).toContain('kubectl get deployment/flowspark-backend -n production -o jsonpath={.spec.template.spec.containers[0].image}');
      expect(lines.find((l) => l.startsWith('kubectl run migration-job'))).toMatch(new RegExp(`^kubectl run migration-job --image=flowspark/backend:abc123 --restart=Never -n production .* --command -- python manage.py migrate core ${target}$`));
      expect(lines.at(-1)).toBe('kubectl exec deployment/flowspark-backend -n production -- python manage.py showmigrations core');
    }
  });

  it('ticks one checklist item per CI job from the check runs', () => {
    expect(checklistItems(staging).map((i) => [i.id, i.check])).toEqual(['backend-tests', 'code-quality', 'security-scan', 'frontend-tests'].map((job) => [job, { github: { statuses: [job] } }]));
  });

  it('deploys staging once "CI/CD Pipeline" succeeded on the staging branch', () => {
    expect(config.autoDeploy).toEqual([{ on: 'workflow_run', workflow: 'CI/CD Pipeline', branch: 'staging', conclusion: 'success', environment: 'staging' }]);
  });

  it('masks the .env.example secrets', () => {
    expect(config.secrets).toEqual(expect.arrayContaining(['SECRET_KEY', 'DATABASE_URL', 'OPENAI_API_KEY', 'STRIPE_SECRET_KEY', 'DOCKER_PASSWORD']));
  });
});

describe('examples/sarvanom.yml (SarvanOM)', () => {
  const config = load('examples/sarvanom.yml');
  const production = environment(config, 'production');

  it('rolls production back by stopping the canary, reverting the image, waiting for the rollout, checking health, within the 30-minute timeline', () => {
    expect(rollbackArgvs(production)).toEqual([
      'kubectl scale deployment/sarvanom-canary --replicas=0 -n {{env}}',
      'kubectl set image deployment/sarvanom sarvanom=registry.example.com/sarvanom:{{sha}} -n {{env}}',
      'kubectl rollout status deployment/sarvanom -n {{env}} --timeout=10m',
    ]);
    const steps = production.rollback?.steps ?? [];
    expect(steps.at(-1)).toMatchObject({ name: 'Health check' });
    const worst = steps.reduce((sum, s) => sum + ('http' in s ? (s.http.retries + 1) * (s.http.timeout + s.http.retryDelay) : 'timeout' in s ? s.timeout : 0), 0);
    expect(worst).toBeLessThanOrEqual(30 * 60_000);
  });

  it('has the maintenance window (every 4 weeks, Sunday 02:00-04:00 UTC) and the release calendar (2-weekly regular, 6-weekly major Tuesdays), shown not enforced', () => {
    const w = nextWindow(config, 'production', Date.UTC(2026, 0, 5));
    expect([new Date(w!.start).toISOString(), w!.end - w!.start]).toEqual(['2026-02-01T02:00:00.000Z', 7_200_000]);
    expect(config.schedule.maintenanceWindows[0]?.notifyBefore).toBe(3_600_000);
    expect(config.schedule.releaseCalendar.map((r) => [r.name, r.every, r.enforce])).toEqual([['regular', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU', false], ['major', 'FREQ=WEEKLY;INTERVAL=6;BYDAY=TU', false]]);
    expect(timeRulesProblem(config, production, Date.UTC(2026, 0, 7), {})).toBeUndefined();
  });

  it('maps the release channels to branches, and production requires staging', () => {
    expect(config.environments.map((e) => [e.name, e.defaultRef])).toEqual([
      ['development', 'develop'],
      ['staging', 'release/v2'],
      ['production', 'main'],
    ]);
    expect(production.requires).toEqual({ succeededOn: 'staging' });
    expect(environment(config, 'staging').approvals?.required).toBe(1);
  });

  it('needs 2 approvals for production, which the security team may give', () => {
    expect(production.approvals?.required).toBe(2);
    expect(production.approvals?.roles).toEqual(expect.arrayContaining(['engineers', 'security_team']));
    expect(production.approvals?.allowRequester).toBe(false);
  });

  it('builds, pushes and applies the image tagged with the commit on development and staging', () => {
    for (const name of ['development', 'staging']) {
      const all = argvs(environment(config, name));
      const at = (a: string) => all.indexOf(a);
      expect(at('docker build -t registry.example.com/sarvanom:{{sha}} .'), name).toBeGreaterThan(at('git checkout --detach {{sha}}'));
      expect(at('docker push registry.example.com/sarvanom:{{sha}}'), name).toBeGreaterThan(at('docker build -t registry.example.com/sarvanom:{{sha}} .'));
      expect(at('kubectl set image deployment/sarvanom sarvanom=registry.example.com/sarvanom:{{sha}} -n {{env}}'), name).toBeGreaterThan(at(`kubectl apply -f k8s/${name}/`));
    }
    const withRegistry = load('examples/sarvanom.yml', { SARVANOM_IMAGE: 'ghcr.io/acme/sarvanom' });
    expect(argvs(environment(withRegistry, 'staging'))).toContain('docker push ghcr.io/acme/sarvanom:{{sha}}');
  });

  it('has the pre-deployment checklist: code quality, infrastructure, communication', () => {
    expect(production.checklist.map((s) => [s.section, s.items.length])).toEqual([
      ['Code Quality', 5],
      ['Infrastructure', 5],
      ['Communication', 4],
    ]);
    expect(checklistItems(production).find((i) => i.id === 'tests-passing')?.check).toBeDefined();
  });

  it('runs the canary before promoting, with time for all three canary phases', () => {
    const all = argvs(production);
    const image = 'registry.example.com/sarvanom:{{sha}}';
    expect(all).toEqual([
      'git fetch origin {{sha}}',
      'git checkout --detach {{sha}}',
      'kubectl apply -f k8s/canary/',
      `kubectl set image deployment/sarvanom-canary sarvanom=${image} -n {{env}}`,
      'kubectl rollout status deployment/sarvanom-canary -n {{env}} --timeout=10m',
      'kubectl apply -f k8s/production/',
      `kubectl set image deployment/sarvanom sarvanom=${image} -n {{env}}`,
      'kubectl rollout status deployment/sarvanom -n {{env}} --timeout=10m',
    ]);
    const names = production.steps.map((s) => s.name);
    expect(names.indexOf('Canary')).toBeGreaterThan(names.indexOf('Wait for the canary rollout'));
    expect(names.indexOf('Canary')).toBeLessThan(names.indexOf('Promote to production'));
  });

  it('runs its canary with the seed’s phases and rollback triggers on Prometheus', () => {
    const step = production.steps.find((s) => 'canary' in s);
    if (!step || !('canary' in step)) throw new Error('no canary step');
    const { canary } = step;
    expect(step.retrySafe).toBe(true);
    expect(canary.phases).toEqual([{ weight: 5, hold: 30 * 60_000 }, { weight: 25, hold: 60 * 60_000 }, { weight: 50, hold: 120 * 60_000 }, { weight: 100 }]);
    expect('run' in canary.setWeight ? canary.setWeight.run.join(' ') : '').toContain('canary-weight={{weight}}');
    expect(canary.abort?.run.join(' ')).toContain('canary-weight=0');
    const m = Object.fromEntries(canary.metrics.map((x) => [x.name, x]));
    expect(m['error rate']).toMatchObject({ max: 0.01, for: 5 * 60_000 });
    expect(m['p95 response time']).toMatchObject({ maxIncrease: 0.5, for: 10 * 60_000 });
    expect(m['error rate vs stable']).toMatchObject({ maxAboveStable: 0.001 });
    expect(m['error rate vs stable']?.query).toContain('track="{{track}}"');
    expect(m['services up']).toMatchObject({ min: 1 });
    expect(canary.onInconclusive).toBe('pause');
    // "3.1 Automatic Rollback Triggers" go to the rollback job ("3.2": stop the canary, revert, verify).
    expect(canary.onBreach).toBe('rollback');
    expect(production.rollback?.steps.map((s) => s.name)).toEqual(['Stop the canary', 'Revert the production image', 'Wait for the production rollout', 'Health check']);
    expect(load('examples/sarvanom.yml', { PROMETHEUS_URL: 'http://prom.test:9090' }).environments.find((e) => e.name === 'production')?.steps.some((s) => 'canary' in s && s.canary.prometheus === 'http://prom.test:9090')).toBe(true);
  });
});

describe('examples/academiclab.yml (Academic Lab)', () => {
  const config = load('examples/academiclab.yml');
  const staging = environment(config, 'staging');
  const production = environment(config, 'production');

  it('rolls production back with option 2: reset to the previous stable commit and push with a lease, then check the site', () => {
    expect(rollbackArgvs(production)).toEqual([
      'git fetch origin',
      'git fetch origin {{sha}}',
      'git checkout -B production origin/production',
      'git reset --hard {{sha}}',
      'git push --force-with-lease origin production',
    ]);
    expect(production.rollback?.steps.at(-1)).toMatchObject({ http: { timeout: 2_000 } });
  });

  it('takes a version to production only after 3 days on staging (the seed\'s 3-5 days of student testing)', () => {
    const since = Date.UTC(2026, 0, 5, 12);
    expect(soakProblem(production, 'v1', since, since + 2 * 86_400_000)).toContain('It may go from Thu 8 Jan 2026 12:00 UTC');
    expect(soakProblem(production, 'v1', since, since + 3 * 86_400_000)).toBeUndefined();
  });

  it('promotes main -> staging -> production', () => {
    expect(config.environments.map((e) => [e.name, e.defaultRef])).toEqual([
      ['staging', 'main'],
      ['production', 'staging'],
    ]);
    expect(production.requires).toEqual({ succeededOn: 'staging', soakFor: 3 * 86_400_000 });
  });

  it('needs 1 approval for staging and 2 for production, one from a code owner', () => {
    expect(staging.approvals?.required).toBe(1);
    expect(production.approvals).toMatchObject({ required: 2, distinctRoles: true, roles: ['maintainers', 'code_owners'] });
  });

  it('has the ten-item release checklist, tests ticked from GitHub Actions', () => {
    expect(checklistItems(production)).toHaveLength(10);
    expect(checklistItems(production)[0]).toMatchObject({ id: 'tests-passing', check: { github: { statuses: 'all' } } });
  });

  it('merges the commit (fast-forward only), resets to it for a rollback, pushes, then checks the site answers within 2 s', () => {
    for (const env of [staging, production]) {
      expect(argvs(env)).toEqual([
        'git fetch origin',
        'git fetch origin {{sha}}',
        `git checkout -B ${env.name} origin/${env.name}`,
        'git merge --ff-only {{sha}}',
        'git reset --hard {{sha}}',
        `git push --force-with-lease origin ${env.name}`,
      ]);
      expect(httpSteps(env)[0]?.http.timeout).toBe(2_000);
    }
  });

  describe('its git steps, run against real repositories', () => {
    const run = promisify(execFile);
    const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: tmpdir() };
    const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env: gitEnv })).stdout.trim();

    /** origin (bare) with production at A and staging at C (A <- B <- C); the worker's clone; a developer's clone. */
    async function repos() {
      const dir = mkdtempSync(join(tmpdir(), 'shipmate-alab-'));
      await git(dir, 'init', '-q', '--bare', '-b', 'main', 'origin.git');
      await git(dir, 'clone', '-q', 'origin.git', 'dev');
      const dev = join(dir, 'dev');
      const commit = async (msg: string) => (await git(dev, 'commit', '-q', '--allow-empty', '-m', msg), git(dev, 'rev-parse', 'HEAD'));
      const a = await commit('feat: a');
      await git(dev, 'push', '-q', 'origin', 'HEAD:refs/heads/production');
      const b = await commit('feat: b');
      const c = await commit('feat: c');
      await git(dev, 'push', '-q', 'origin', 'HEAD:refs/heads/staging', 'HEAD:refs/heads/main');
      await git(dir, 'clone', '-q', 'origin.git', 'worker');
      return { dir, dev, worker: join(dir, 'worker'), commit, a, b, c };
    }

    /** Runs production's git steps (or its rollback steps) for `sha` as the job would (rendered argv, the step's cwd); the first failure stops. */
    async function deployProd(worker: string, sha: string, kind: 'deploy' | 'rollback' = 'deploy'): Promise<string> {
      const prod = environment(load('examples/academiclab.yml', { ACADEMICLAB_CHECKOUT: worker }), 'production');
      const vars: DeployVars = { env: 'production', version: 'v', ref: 'staging', user: 'U0ALABDEV1', deployId: '1', sha, shortSha: sha.slice(0, 7), previousSha: '' };
      const steps = kind === 'rollback' ? (prod.rollback?.steps ?? []).flatMap((s) => ('run' in s ? [s] : [])) : runSteps(prod);
      for (const step of steps) {
        const [file = '', ...args] = step.run.map((a) => renderTemplate(a, vars));
        try {
          await run(file, args, { cwd: step.cwd, env: gitEnv });
        } catch {
          return `failed at ${step.name}`;
        }
      }
      return 'ok';
    }

    it('puts production on the commit, back on the earlier one for a rollback, and again forward', async () => {
      const r = await repos();
      try {
        const originProd = () => git(join(r.dir, 'origin.git'), 'rev-parse', 'production');
        expect(await deployProd(r.worker, r.c)).toBe('ok');
        expect(await originProd()).toBe(r.c);
        expect(await deployProd(r.worker, r.b)).toBe('ok'); // the rollback
        expect(await originProd()).toBe(r.b);
        expect(await deployProd(r.worker, r.b)).toBe('ok'); // a retry changes nothing
        expect(await originProd()).toBe(r.b);
        expect(await deployProd(r.worker, r.c)).toBe('ok');
        expect(await originProd()).toBe(r.c);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    }, 30_000);

    it('its rollback steps put production back on the earlier commit, and a retry changes nothing', async () => {
      const r = await repos();
      try {
        const originProd = () => git(join(r.dir, 'origin.git'), 'rev-parse', 'production');
        expect(await deployProd(r.worker, r.c)).toBe('ok');
        expect(await deployProd(r.worker, r.b, 'rollback')).toBe('ok');
        expect(await originProd()).toBe(r.b);
        expect(await deployProd(r.worker, r.b, 'rollback')).toBe('ok');
        expect(await originProd()).toBe(r.b);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    }, 30_000);

    it('deploys the commit, not where the branch is now, and refuses one that would drop a commit pushed to production', async () => {
      const r = await repos();
      try {
        const originProd = () => git(join(r.dir, 'origin.git'), 'rev-parse', 'production');
        const d = await r.commit('feat: d, after the approvals');
        await git(r.dev, 'push', '-q', 'origin', 'HEAD:refs/heads/staging');
        expect(await deployProd(r.worker, r.c)).toBe('ok');
        expect(await originProd()).toBe(r.c); // not d, where staging is now
        await git(r.dev, 'checkout', '-q', '-b', 'hotfix', r.c);
        const hotfix = await r.commit('fix: straight to production');
        await git(r.dev, 'push', '-q', 'origin', 'HEAD:refs/heads/production');
        expect(await deployProd(r.worker, d)).toBe('failed at Merge the commit into production');
        expect(await originProd()).toBe(hotfix);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    }, 30_000);
  });
});

describe('shipmate.yml (the default config)', () => {
  const config = load('shipmate.yml');
  const demoUsers = ['U0DEMOALEX', 'U0DEMOTARA', 'U0DEMOPRIYA', 'U0DEMOSAM', 'U0DEMOOLLIE'];

  it('has dev -> staging -> production with their aliases', () => {
    expect(config.environments.map((e) => [e.name, e.aliases, e.requires?.succeededOn])).toEqual([
      ['dev', ['development'], undefined],
      ['staging', ['stage'], 'dev'],
      ['production', ['prod', 'prd'], 'staging'],
    ]);
  });

  it('lets everyone deploy to dev and staging, only engineers to production (Priya is not one), and gives the demo users their roles', () => {
    expect(config.environments.map((e) => [e.name, e.deployers])).toEqual([['dev', []], ['staging', []], ['production', ['engineers']]]);
    expect(config.roles.engineers?.users).toEqual(demoUsers.filter((u) => u !== 'U0DEMOPRIYA'));
    expect(Object.fromEntries(Object.entries(config.roles).map(([k, r]) => [k, r.users]))).toMatchObject({
      tech_lead: ['U0DEMOTARA'],
      product_owner: ['U0DEMOPRIYA'],
      security_lead: ['U0DEMOSAM'],
      ops_lead: ['U0DEMOOLLIE'],
    });
  });

  it('needs 2 production approvals from two different lead roles', () => {
    const production = environment(config, 'production');
    expect(production.approvals).toMatchObject({ required: 2, distinctRoles: true, roles: ['tech_lead', 'product_owner', 'security_lead', 'ops_lead'] });
    const items = checklistItems(production);
    expect(items.length).toBeGreaterThanOrEqual(6);
    expect(items.length).toBeLessThanOrEqual(10);
    expect(production.checklist.length).toBeGreaterThanOrEqual(2);
    expect(production.checklist.length).toBeLessThanOrEqual(3);
    expect(items.filter((i) => i.check).map((i) => i.check)).toEqual([{ run: ['node', '-e', 'process.exit(0)'], timeout: 10_000 }]);
  });

  it('posts to the demo channels', () => {
    expect(config.channels).toEqual({ deployLog: 'C0DEPLOYLOG', announcements: 'C0ANNOUNCE' });
    expect(environment(config, 'staging').channels.stakeholders).toEqual(['C0RELEASES']);
    expect(environment(config, 'production').channels.stakeholders).toEqual(['C0RELEASES']);
  });

  it("checks Shipmate's own /healthz on PORT", () => {
    for (const env of config.environments) {
      expect(httpSteps(env)).toHaveLength(1);
      expect(httpSteps(env)[0]?.http).toMatchObject({ url: 'http://127.0.0.1:3000/healthz', json: { path: 'ok', equals: true }, retries: 2 });
      expect(runSteps(env).length + 1).toBeGreaterThanOrEqual(4);
      expect(runSteps(env).length + 1).toBeLessThanOrEqual(5);
    }
    expect(httpSteps(environment(load('shipmate.yml', { PORT: '4321' }), 'dev'))[0]?.http.url).toBe('http://127.0.0.1:4321/healthz');
  });

  it('runs only harmless local commands, and they all succeed', async () => {
    const run = promisify(execFile);
    const vars = { env: 'dev', version: 'v0.0.0-test', ref: 'main', user: 'U0DEMOALEX', deployId: 'test' };
    const render = (arg: string) => arg.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => vars[name as keyof typeof vars]);
    await Promise.all(
      config.environments.map(async (env) => {
        const started = Date.now();
        for (const step of runSteps(env)) {
          expect(['node', 'sleep', 'echo']).toContain(step.run[0]);
          const [file = '', ...args] = step.run.map(render);
          const { stdout } = await run(file, args, { timeout: step.timeout });
          if (file === 'node') expect(stdout.trim(), step.name).not.toBe('');
        }
        // A deploy should visibly progress, yet stay short: a few seconds of steps.
        expect(Date.now() - started, env.name).toBeGreaterThan(2_500);
        expect(Date.now() - started, env.name).toBeLessThan(15_000);
      }),
    );
  });

  it('fails dev\'s "Run tests" step for the ref `broken` (the demo of a failing deploy), and only that step', async () => {
    const run = promisify(execFile);
    const render = (ref: string) => (arg: string) => arg.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => ({ env: 'dev', version: ref, ref, user: 'U0DEMOALEX', deployId: 'test' })[name] ?? '');
    const steps = runSteps(environment(config, 'dev'));
    const outcomes = await Promise.all(steps.map(async (step) => {
      const [file = '', ...args] = step.run.map(render('broken'));
      return run(file, args, { timeout: step.timeout }).then(() => 'ok', (err: { code?: number; stderr?: string }) => `exit ${err.code}: ${err.stderr?.trim()}`);
    }));
    expect(Object.fromEntries(steps.map((s, i) => [s.name, outcomes[i]]))).toEqual({
      'Install dependencies': 'ok', Build: 'ok', Deploy: 'ok',
      'Run tests': 'exit 1: FAIL gates > approvals expire after 24h: expected 1 approval, got 0',
    });
  });
});

describe('parseConfig on an invalid file names the path and the reason', () => {
  const minimal = (envs: string, top = '') => `${top}\nenvironments:\n${envs}`;
  const steps = '    steps: [{ name: Build, run: [make] }]\n';

  it('an unknown environment in requires', () => {
    const text = minimal(`  - name: staging\n${steps}  - name: production\n    requires: { succeededOn: qa }\n${steps}`);
    expect(problemsOf(text)).toEqual(['environments.1.requires.succeededOn: environment "qa" is not defined']);
  });

  it('an alias used twice', () => {
    const text = minimal(`  - name: production\n    aliases: [prod]\n${steps}  - name: preprod\n    aliases: [prod]\n${steps}`);
    expect(problemsOf(text)).toEqual(['environments.1.aliases: "prod" is already used by environment "production"']);
  });

  it('an alias equal to another environment name', () => {
    const text = minimal(`  - name: staging\n${steps}  - name: production\n    aliases: [staging]\n${steps}`);
    expect(problemsOf(text)).toEqual(['environments.1.aliases: "staging" is already used by environment "staging"']);
  });

  it('a duration that is not one', () => {
    const text = minimal(`  - name: production\n    approvals: { required: 1, roles: [ops], expiresAfter: 10 parsecs }\n${steps}`, 'roles: { ops: { users: [U0OPS] } }');
    expect(problemsOf(text)).toEqual(['environments.0.approvals.expiresAfter: "10 parsecs" is not a duration (use e.g. 30s, 10m, 2h)']);
  });

  it('a step with a duration that is not one names the step and says why', () => {
    const text = minimal('  - name: dev\n    steps: [{ name: Build, run: [make], timeout: 10 parsecs }]\n');
    expect(problemsOf(text)).toEqual(['environments.0.steps.0.timeout: "10 parsecs" is not a duration (use e.g. 30s, 10m, 2h)']);
  });

  it('a step with a misspelled key says which key', () => {
    const text = minimal('  - name: dev\n    steps: [{ name: Build, run: [make], timout: 10s }]\n');
    expect(problemsOf(text)[0]).toMatch(/^environments\.0\.steps\.0: Unrecognized key: "timout"/);
  });

  it('an environment without steps', () => {
    expect(problemsOf(minimal('  - name: dev\n'))).toEqual(['environments.0.steps: Invalid input: expected array, received undefined']);
    expect(problemsOf(minimal('  - name: dev\n    steps: []\n'))[0]).toMatch(/^environments\.0\.steps: .*>=1/);
  });

  it('a role that is not defined', () => {
    const text = minimal(
      `  - name: production\n    deployers: [release_managers]\n    approvals: { required: 1, roles: [ops, cto] }\n    postDeploySignoff: { role: qa }\n${steps}`,
      'roles: { ops: { users: [U0OPS] } }',
    );
    expect(problemsOf(text)).toEqual([
      'environments.0.deployers.0: role "release_managers" is not defined under roles',
      'environments.0.approvals.roles.1: role "cto" is not defined under roles',
      'environments.0.postDeploySignoff.role: role "qa" is not defined under roles',
    ]);
  });

  it('an environment variable that is not set and has no default', () => {
    const text = minimal(`  - name: dev\n${steps}`, 'channels: { deployLog: "${DEPLOY_LOG_CHANNEL}" }');
    expect(problemsOf(text)).toEqual(['environment variable DEPLOY_LOG_CHANNEL is not set (write ${DEPLOY_LOG_CHANNEL:-default} for a default)']);
    expect(parseConfig(text, 'ok.yml', { DEPLOY_LOG_CHANNEL: 'C0LOG' }).channels.deployLog).toBe('C0LOG');
    expect(parseConfig(text.replace('}"', ':-C0FALLBACK}"'), 'ok.yml', {}).channels.deployLog).toBe('C0FALLBACK');
  });

  it('a Slack id of the wrong shape', () => {
    const text = minimal(`  - name: dev\n${steps}`, 'roles: { ops: { users: [alice] } }');
    expect(problemsOf(text)).toEqual(['roles.ops.users.0: a Slack user id looks like U0123ABCD']);
  });

  it('text that is not YAML', () => {
    expect(problemsOf('environments: [\n')[0]).toMatch(/^not valid YAML: /);
  });
});

describe('template variables', () => {
  it('an unknown {{variable}} stops start-up with its path', () => {
    expect(() => parseConfig('environments:\n  - name: dev\n    steps:\n      - { name: Build, run: [make, "{{verison}}"] }\n', 'x.yml', {})).toThrow(
      'environments.0.steps.0.run.1: unknown variable {{verison}} (use {{env}}, {{version}}, {{ref}}, {{user}}, {{deployId}} or {{rollbackFrom}})',
    );
    // rollback steps are checked the same way, with their own path
    expect(() => parseConfig('environments:\n  - name: dev\n    steps: [{ name: a, run: [true] }]\n    rollback: { steps: [{ name: Undo, run: [undo, "{{rolbackFrom}}"] }] }\n', 'x.yml', {})).toThrow(
      'environments.0.rollback.steps.0.run.1: unknown variable {{rolbackFrom}}',
    );
    expect(() => parseConfig('environments:\n  - name: dev\n    steps: [{ name: a, run: [true] }]\n    rollback: { steps: [{ name: Undo, run: [undo, "{{rollbackFromSha}}"] }] }\n', 'x.yml', {})).toThrow(
      'environments.0.rollback.steps.0.run.1: {{rollbackFromSha}} needs `repository` in the config',
    );
    expect(() => parseConfig('environments:\n  - name: dev\n    steps:\n      - { name: Up, http: { url: "https://x/{{host}}" } }\n', 'x.yml', {})).toThrow('environments.0.steps.0.http.url: unknown variable {{host}}');
  });
});

describe('required approval roles', () => {
  const base = (approvals: string) => `roles:\n  eng: { users: [U0ENG] }\n  sec: { users: [U0SEC] }\nenvironments:\n  - name: prod\n    approvals: ${approvals}\n    steps: [{ name: x, run: [true] }]\n`;
  it('must be among the approval roles and fit in the count', () => {
    expect(() => parseConfig(base('{ required: 1, roles: [eng], sensitiveRequires: [sec] }'), 'x.yml', {})).toThrow('environments.0.approvals: required role "sec" must also be listed in approvals.roles');
    expect(() => parseConfig(base('{ required: 1, roles: [eng, sec], requireRoles: [eng], sensitiveRequires: [sec] }'), 'x.yml', {})).toThrow('environments.0.approvals.required: is smaller than the number of roles that must approve');
    expect(parseConfig(base('{ required: 2, roles: [eng, sec], sensitiveRequires: [sec] }'), 'x.yml', {}).environments[0]!.approvals?.sensitiveRequires).toEqual(['sec']);
  });
});
