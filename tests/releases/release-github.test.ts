// /release through GitHub (the local stand-in, answers validated against @octokit/openapi): the branch, the tag
// object and ref, the GitHub release, the CHANGELOG through the contents API and the merge back; GitHub failing with
// 500s in the middle and the release resuming without duplicates; Shipmate restarted while the release waits for
// production's sign-off, the new process carrying it on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import type { ReleaseRecord } from '../../src/releases/release-store.js';
import { allText, CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { standinSettings, startGithubStandin, type GithubStandin } from '../helpers/github-standin.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';

const YAML = `
repository: acme/shop
roles:
  leads: { users: [U0LEAD] }
channels: { announcements: C0ANNOUNCE }
releases:
  pollInterval: 100ms
  changelog: CHANGELOG.md
environments:
  - name: staging
    steps:
      - name: Deploy
        run: [sh, -c, 'echo {{sha}}']
  - name: production
    approvals: { required: 1, roles: [leads] }
    steps:
      - name: Deploy
        run: [sh, -c, 'echo {{sha}}']
`;

let redisUrl: string;
let gh: GithubStandin;
beforeAll(async () => {
  redisUrl = (await startRedis()).url;
});
afterAll(async () => {
  await stopRedis();
});
afterEach(() => {
  expect(gh.problems).toEqual([]);
});

async function release(bot: TestBot, id: string): Promise<ReleaseRecord> {
  const r = await bot.shipmate.deps.releases.store.get(id);
  if (!r) throw new Error('no release');
  return r;
}

async function until(bot: TestBot, id: string, pred: (r: ReleaseRecord) => boolean, what: string): Promise<ReleaseRecord> {
  return eventually(async () => {
    const r = await release(bot, id);
    return pred(r) ? r : undefined;
  }, 20_000, what);
}

async function approve(bot: TestBot, deployId: string): Promise<void> {
  const gate = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${deployId} `) && allText(m).includes(ACTIONS.approve)), 10_000, 'the gate message');
  await bot.click(gate, `${ACTIONS.approve}:leads`, 'U0LEAD');
}

describe('/release on GitHub', () => {
  it('survives 500s in the middle and a restart while waiting for sign-off, making each branch, tag and release once', async () => {
    gh = await startGithubStandin();
    const v142 = gh.commit('main', 'chore: initial', 'Ada', { 'README.md': '# shop\n', 'CHANGELOG.md': '# Changelog\n' });
    gh.tags.set('v1.4.2', v142);
    gh.commit('main', 'feat(cart): save carts for later', 'Tara', { 'cart.js': 'save' });
    gh.commit('main', 'fix: rounding in totals', 'Sam', { 'totals.js': 'round' });
    const base = gh.commit('main', 'feat: usage constraints', 'Ada', { 'schemas/migrate_20260207_add_usage_constraints.sql': '-- sql' });
    const slack: SlackStandin = await startSlackStandin({ token: 'xoxb-test-token-123456' });
    const prefix = `ghrel${Date.now().toString(36)}`;
    let bot = await startTestBot({ configYaml: YAML, redisUrl, slack, prefix, github: standinSettings(gh) });
    try {
      const res = await bot.command('/release', 'minor');
      const id = /Release #(\d+)/.exec(String(res.json.text))?.[1] ?? '';
      let r = await until(bot, id, (x) => x.steps['deploy:production']?.deployId !== undefined, 'production to be requested');
      expect(r).toMatchObject({ tag: 'v1.5.0', branch: 'release/v1.5.0', baseSha: base, sha: base });
      expect(gh.branches.get('release/v1.5.0')).toBe(base);
      expect(r.notes).toContain('*cart:* save carts for later');
      expect(r.notes).toContain('## Database Changes\n- Adds `schemas/migrate_20260207_add_usage_constraints.sql`');
      expect(r.notes).toContain('Run migration: `schemas/migrate_20260207_add_usage_constraints.sql`');

      // Shipmate restarts while production waits for its sign-off: the new process carries the release on
      await bot.stop();
      bot = await startTestBot({ configYaml: YAML, redisUrl, slack, prefix, github: standinSettings(gh) });
      // GitHub answers 500 for a while when the release is about to be published (more than the client's own retries)
      gh.fault = { mode: 'down', paths: /\/releases|\/git\/tags/, times: 7 };
      await approve(bot, r.steps['deploy:production']?.deployId ?? '');
      r = await until(bot, id, (x) => x.status === 'succeeded' || x.status === 'failed', 'the release to end');
      expect(r.status).toBe('succeeded');
      expect(bot.logs.lines().some((l) => l.msg === 'release step failed: retrying')).toBe(true);

      // each thing exactly once
      expect([...gh.tags.keys()].filter((t) => t === 'v1.5.0')).toHaveLength(1);
      expect(gh.tags.get('v1.5.0')).toBe(base);
      expect(gh.annotated.has('v1.5.0')).toBe(true);
      expect(gh.releases.filter((x) => x.tag === 'v1.5.0')).toHaveLength(1);
      expect(gh.releases[0]?.body).toContain('## New Features');
      expect(gh.calls.filter((c) => c.method === 'post' && c.path.endsWith('/git/refs') && (c.body.ref as string) === 'refs/heads/release/v1.5.0')).toHaveLength(1);
      expect(r.releaseUrl).toBe('https://github.example/acme/shop/releases/tag/v1.5.0');
      // CHANGELOG on the release branch (contents API), merged back into main with it
      const mainTip = gh.commits.get(gh.branches.get('main') ?? '');
      expect(mainTip?.parents).toHaveLength(2);
      expect(mainTip?.files?.['CHANGELOG.md']).toContain('## Release v1.5.0');
      const announce = await eventually(() => slack.messages('C0ANNOUNCE').find((m) => (m.text ?? '').includes('Release v1.5.0 is out')), 5_000, 'the announcement');
      expect(announce.text).toContain('releases/tag/v1.5.0');

      // the same steps once more: GitHub is asked, nothing is created
      const posts = gh.calls.filter((c) => c.method !== 'get').length;
      await bot.shipmate.deps.releases.store.update(id, (x) => {
        x.status = 'running';
        for (const k of ['branch', 'tag', 'publish', 'changelog', 'announce', 'merge:main']) delete x.steps[k];
      });
      expect(await bot.shipmate.deps.releases.advance(id)).toBe('done');
      expect(gh.calls.filter((c) => c.method !== 'get').length - posts).toBe(1); // only the merge, answered "nothing to merge"
      expect(gh.releases).toHaveLength(1);
      expect((await release(bot, id)).steps['merge:main']?.detail).toBe('already contained the branch');
    } finally {
      gh.fault = undefined;
      await bot.stop();
      await slack.close();
      await gh.stop();
    }
  });

  it('a merge back that conflicts on GitHub names the files changed on both sides and forces nothing', async () => {
    gh = await startGithubStandin({ repo: 'conflicts' });
    const first = gh.commit('main', 'chore: initial', 'Ada', { 'app.js': 'one' });
    gh.tags.set('v2.0.0', first);
    gh.commit('main', 'fix: two', 'Ada', { 'app.js': 'two' });
    const bot = await startTestBot({ configYaml: YAML.replace('acme/shop', 'acme/conflicts').replace('    approvals: { required: 1, roles: [leads] }\n', ''), redisUrl, github: standinSettings(gh) });
    try {
      const res = await bot.command('/release', 'patch');
      const id = /Release #(\d+)/.exec(String(res.json.text))?.[1] ?? '';
      await until(bot, id, (x) => x.steps.branch?.status === 'done', 'the branch');
      // main moves on and changes the same file (and the CHANGELOG the release adds)
      const mainBefore = gh.commit('main', 'feat: three', 'Bo', { 'app.js': 'three', 'CHANGELOG.md': '# Changelog\n\nmain edit\n' });
      const r = await until(bot, id, (x) => x.status === 'succeeded', 'the release');
      expect(r.steps['merge:main']).toMatchObject({ status: 'conflict' });
      expect(r.steps['merge:main']?.detail).toContain('`CHANGELOG.md`');
      expect(gh.branches.get('main')).toBe(mainBefore);
      await eventually(() => bot.slack.messages(CHANNEL).find((m) => (m.text ?? '').includes('conflicts in `CHANGELOG.md`')), 5_000, 'the conflict message');
    } finally {
      await bot.stop();
      await gh.stop();
    }
  });
});

describe('GitHub down for longer than the retries', () => {
  it('stops the release saying why, and /release resume carries on where it stood', async () => {
    gh = await startGithubStandin({ repo: 'outage' });
    const first = gh.commit('main', 'chore: initial', 'Ada', { 'a.txt': '1' });
    gh.tags.set('v0.9.0', first);
    gh.commit('main', 'feat: more', 'Ada', { 'b.txt': '2' });
    const yaml = YAML.replace('acme/shop', 'acme/outage').replace('    approvals: { required: 1, roles: [leads] }\n', '').replace('  pollInterval: 100ms', '  pollInterval: 100ms\n  retries: 1');
    const bot = await startTestBot({ configYaml: yaml, redisUrl, github: standinSettings(gh) });
    try {
      gh.fault = { mode: 'down', paths: /\/git\/refs$/ };
      const res = await bot.command('/release', 'minor');
      const id = /Release #(\d+)/.exec(String(res.json.text))?.[1] ?? '';
      const failed = await until(bot, id, (x) => x.status === 'failed', 'the release to give up');
      expect(failed.error).toContain('GitHub is not answering properly');
      expect(failed.error).toContain('/release resume');
      expect(failed.steps.plan?.status).toBe('done');
      expect(failed.steps.branch).toBeUndefined();
      await eventually(() => bot.slack.messages(CHANNEL).find((m) => (m.text ?? '').includes('stopped: ')), 5_000, 'the failure said');
      // a new /release is possible again only after this one is resumed or dropped: resume it once GitHub is back
      gh.fault = undefined;
      const resumed = await bot.command('/release', 'resume');
      expect(String(resumed.json.text)).toContain(`Resuming Release #${id}`);
      const done = await until(bot, id, (x) => x.status === 'succeeded', 'the resumed release');
      expect(done.tag).toBe('v0.10.0');
      expect(gh.releases.map((x) => x.tag)).toEqual(['v0.10.0']);
      expect([...gh.branches.keys()].filter((b) => b.startsWith('release/'))).toEqual(['release/v0.10.0']);
      expect(done.sha).toBe(done.baseSha);
    } finally {
      gh.fault = undefined;
      await bot.stop();
      await gh.stop();
    }
  });
});
