// /migrate end to end: a real Redis, the real Bolt receiver fed signed requests, the Slack stand-in (serving each
// user's time zone), real scripts on disk, real commands as steps; time comes from deps.now.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { readAudit } from '../../src/deploys/deploy-store.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'shipmate-migrations-'));
const scripts = join(dir, 'schemas');
const marks = join(dir, 'marks.log');
writeFileSync(marks, '');
// A step that appends "<label> start" / "<label> end" around a short sleep, so overlapping runs would show.
const mark = (label: string, sleepMs = 0) => `[node, -e, "const f=require('fs');f.appendFileSync(process.argv[1], process.argv[2]+' start\\\\n');setTimeout(()=>f.appendFileSync(process.argv[1], process.argv[2]+' end\\\\n'), ${sleepMs})", "${marks}", "${label}"]`;

const YAML = `
roles:
  dba: { users: [U0DBA] }
schedule:
  maintenanceWindows:
    - { name: monthly, every: "FREQ=WEEKLY;INTERVAL=4;BYDAY=SU", start: "2026-01-04T02:00", duration: 2h, environments: [production] }
  freezes:
    - { reason: "Year-end freeze", start: "2026-12-20", until: "2027-01-04", environments: [staging] }
environments:
  - name: staging
    steps:
      - { name: Deploy, run: ${mark('deploy {{version}}', 400)} }
    migrations:
      directory: ${scripts}
      backup: { name: Backup, run: ${mark('backup {{migration}}')} }
      run: { name: Run script, run: ${mark('{{direction}} {{file}}', 400)} }
      verify: { name: Verify, run: ${mark('verify {{migration}}')} }
  - name: production
    aliases: [prod]
    requires: { succeededOn: staging }
    steps:
      - { name: Deploy, run: ${mark('prod deploy')} }
    migrations:
      directory: ${scripts}
      inWindow: true
      overrideRole: dba
      backup: { name: Backup, run: ${mark('prod backup {{migration}}')} }
      run: { name: Run script, run: ${mark('prod {{direction}} {{file}}')} }
      verify: { name: Verify, run: ${mark('prod verify {{migration}}')} }
`;

const OUTSIDE = Date.UTC(2026, 0, 7, 10); // a Wednesday
const INSIDE = Date.UTC(2026, 1, 1, 2, 30); // Sunday 1 Feb 2026, 02:30 UTC: the window is open
let clock = OUTSIDE;
let bot: TestBot;
let slack: SlackStandin;

beforeAll(async () => {
  writeFileSync(join(dir, 'x'), '');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(scripts);
  for (const f of ['migrate_20260207_add_usage_constraints.sql', 'rollback_20260207_add_usage_constraints.sql', 'migrate_20260301_orphan.sql']) writeFileSync(join(scripts, f), '-- sql\n');
  slack = await startSlackStandin({
    token: BOT_TOKEN,
    users: [
      { id: 'U0ALICE', name: 'alice', tz: 'America/Los_Angeles' },
      { id: 'U0RAVI', name: 'ravi', tz: 'Asia/Kolkata' },
      { id: 'U0DBA', name: 'dba' },
    ],
  });
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, slack, now: () => clock });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await stopRedis();
});

const idFrom = (text: string) => /migration #(\d+)/.exec(text)?.[1] ?? '';
const lines = () => readFileSync(marks, 'utf8').trim().split('\n').filter(Boolean);

async function nothingNewQueued(before: number): Promise<void> {
  const counts = await bot.shipmate.deps.queues.counts();
  const total = Object.values(counts).reduce((n, c) => n + (c.waiting ?? 0) + (c.active ?? 0) + (c.completed ?? 0) + (c.failed ?? 0), 0);
  expect(total).toBe(before);
}
async function jobCount(): Promise<number> {
  const counts = await bot.shipmate.deps.queues.counts();
  return Object.values(counts).reduce((n, c) => n + (c.waiting ?? 0) + (c.active ?? 0) + (c.completed ?? 0) + (c.failed ?? 0), 0);
}

describe('/migrate', () => {
  it('refuses bad input and a migration without its paired rollback script, naming the file, queueing nothing', async () => {
    const before = await jobCount();
    expect((await bot.command('/migrate', 'staging', 'U0ALICE')).json.text).toMatch(/Which migration\?[\s\S]*Usage/);
    expect((await bot.command('/migrate', 'stagin migrate_x', 'U0ALICE')).json.text).toMatch(/Did you mean `staging`/);
    expect((await bot.command('/migrate', 'staging ../etc/passwd', 'U0ALICE')).json.text).toMatch(/not a migration name/);
    expect((await bot.command('/migrate', 'staging migrate_x --force', 'U0ALICE')).json.text).toMatch(/Unknown option `--force`/);
    const res = await bot.command('/migrate', 'staging migrate_20260301_orphan', 'U0ALICE');
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toContain(`looked for \`${join(scripts, 'rollback_20260301_orphan.sql')}\``);
    await nothingNewQueued(before);
    expect((await readAudit(bot.shipmate.deps.redis, bot.prefix)).some((e) => e.action === 'migrate.refused' && e.detail?.includes('no rollback script'))).toBe(true);
  });

  it('refuses production before the migration was applied on staging', async () => {
    const before = await jobCount();
    clock = INSIDE;
    const res = await bot.command('/migrate', 'prod migrate_20260207_add_usage_constraints', 'U0ALICE');
    expect(res.json.text).toMatch(/has not been applied on \*staging\* yet[\s\S]*\/migrate staging migrate_20260207_add_usage_constraints/);
    await nothingNewQueued(before);
    clock = OUTSIDE;
  });

  it('a migrate and a deploy requested together on staging never run at once; backup first, verify after', async () => {
    writeFileSync(marks, '');
    const [m, d] = await Promise.all([bot.command('/migrate', 'staging migrate_20260207_add_usage_constraints', 'U0ALICE'), bot.command('/deploy', 'staging v1.0.0', 'U0RAVI')]);
    const migrationId = idFrom(m.json.text);
    expect(migrationId).not.toBe('');
    const deployId = /deploy #(\d+)/.exec(d.json.text)?.[1] ?? '';
    expect((await waitForEnd(bot, migrationId)).status).toBe('succeeded');
    expect((await waitForEnd(bot, deployId)).status).toBe('succeeded');
    const got = lines();
    // One change at a time: the deploy's marks are never between the migration's first and last.
    const first = got.findIndex((l) => l.startsWith('backup'));
    const last = got.findIndex((l) => l.startsWith('verify') && l.endsWith('end'));
    const deployAt = got.findIndex((l) => l.startsWith('deploy v1.0.0 start'));
    const deployEnd = got.findIndex((l) => l.startsWith('deploy v1.0.0 end'));
    expect(deployAt > last || deployEnd < first).toBe(true);
    expect(got.slice(first, last + 1).map((l) => l.split(' ')[0])).toEqual(['backup', 'backup', 'migrate', 'migrate', 'verify', 'verify']);
    expect(got).toContain(`migrate ${join(scripts, 'migrate_20260207_add_usage_constraints.sql')} end`);
    // The deployed version is untouched by the migration; the migration is recorded as applied.
    expect((await bot.shipmate.deps.store.envState('staging'))?.version).toBe('v1.0.0');
    const status = (await bot.command('/migrate', 'status staging', 'U0ALICE')).json.text;
    expect(status).toMatch(/`migrate_20260207_add_usage_constraints` — applied .* by <@U0ALICE>/);
    expect(status).toContain('pending: `migrate_20260301_orphan`');
    expect(slack.messages(CHANNEL).some((msg) => headerText(msg).includes(`Migration #${migrationId} `))).toBe(true);
  });

  it('production outside the window: said with the next window in UTC and the requester\'s zone, waiting for the override role', async () => {
    clock = OUTSIDE;
    const res = await bot.command('/migrate', 'prod migrate_20260207_add_usage_constraints', 'U0RAVI');
    expect(res.json.text).toContain('outside the maintenance window');
    expect(res.json.text).toContain('Sun 1 Feb 2026 02:00 UTC = Sun 1 Feb 2026 07:30 (Asia/Kolkata, UTC+05:30) your time');
    const id = idFrom(res.json.text);
    expect((await bot.shipmate.deps.store.get(id))?.status).toBe('pending');
    const gate = await eventually(() => slack.messages(CHANNEL).find((msg) => headerText(msg).includes(`#${id} `) && JSON.stringify(msg.blocks).includes(`${ACTIONS.approve}:dba`)), 10_000, 'gate message');
    // The requester cannot approve; the override role can, through the same sign-off as deploys.
    await bot.click(gate, `${ACTIONS.approve}:dba`, 'U0RAVI');
    await new Promise((ok) => setTimeout(ok, 300));
    expect((await bot.shipmate.deps.store.get(id))?.status).toBe('pending');
    writeFileSync(marks, '');
    await bot.click(gate, `${ACTIONS.approve}:dba`, 'U0DBA');
    const done = await waitForEnd(bot, id);
    expect(done.status).toBe('succeeded');
    expect(done.gates?.approvals.map((a) => a.user)).toEqual(['U0DBA']);
    expect(lines()).toContain(`prod migrate ${join(scripts, 'migrate_20260207_add_usage_constraints.sql')} end`);
  });

  it('without an override role, outside the window is refused (requester in UTC-8)', async () => {
    const cfg = bot.shipmate.deps.config.environments[1]!.migrations!;
    const role = cfg.overrideRole;
    cfg.overrideRole = undefined;
    try {
      const before = await jobCount();
      const res = await bot.command('/migrate', 'staging migrate_x', 'U0ALICE'); // warm nothing; staging has no window
      expect(res.json.text).toMatch(/no migration script/i);
      cfg.inWindow = true;
      const refused = await bot.command('/migrate', 'prod migrate_20260207_add_usage_constraints --rollback', 'U0ALICE');
      // a rollback of a migration is never held by the window: it runs (checked below); a forward one is refused
      const rid = idFrom(refused.json.text);
      expect((await waitForEnd(bot, rid)).status).toBe('succeeded');
      expect(lines()).toContain(`prod rollback ${join(scripts, 'rollback_20260207_add_usage_constraints.sql')} end`);
      const again = await bot.command('/migrate', 'prod migrate_20260207_add_usage_constraints', 'U0ALICE');
      expect(again.json.text).toContain('run only inside a maintenance window');
      expect(again.json.text).toContain('Sun 1 Feb 2026 02:00 UTC = Sat 31 Jan 2026 18:00 (America/Los_Angeles, UTC-08:00) your time');
      expect(await jobCount()).toBe(before + 1);
      expect((await bot.command('/migrate', 'status prod', 'U0ALICE')).json.text).toMatch(/`migrate_20260207_add_usage_constraints` — rolled back/);
    } finally {
      cfg.overrideRole = role;
    }
  });

  it('a deploy in a freeze is refused with its reason; a hotfix passes', async () => {
    clock = Date.UTC(2026, 11, 22, 10);
    const res = await bot.command('/deploy', 'staging v2.0.0', 'U0RAVI');
    expect(res.json.text).toContain('*staging* is frozen: Year-end freeze');
    expect(res.json.text).toContain('Mon 4 Jan 2027 00:00 UTC = Mon 4 Jan 2027 05:30 (Asia/Kolkata, UTC+05:30) your time');
    const hot = await bot.command('/deploy', 'staging v2.0.1 --hotfix', 'U0RAVI');
    const id = /deploy #(\d+)/.exec(hot.json.text)?.[1] ?? '';
    expect((await waitForEnd(bot, id)).status).toBe('succeeded');
    const windows = (await bot.command('/deploys', 'windows', 'U0ALICE')).json.text;
    expect(windows).toContain('*monthly* (production, 2 hours)');
    expect(windows).toContain('America/Los_Angeles');
    clock = OUTSIDE;
  });
});
