// /release end to end against a real local git repository (the git host), real Redis, the real Bolt receiver and
// the Slack stand-in: version from the tags, notes from conventional commits (edited in the modal before they are
// published), the environments with their gates, tag, CHANGELOG, announcement and merge back; running the steps
// again makes nothing twice; a first release with no tag; breaking changes forcing a major; a merge-back conflict.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../blocks/action-ids.js';
import { NOTES_BLOCK, NOTES_INPUT, RELEASE_ACTIONS, RELEASE_VIEWS } from '../../blocks/release.js';
import type { ReleaseRecord } from '../../src/releases/release-store.js';
import { allText, CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';

const ANNOUNCE = 'C0ANNOUNCE';

function yaml(repo: string, extra = ''): string {
  return `
repository: ${repo}
roles:
  leads: { users: [U0LEAD] }
channels: { deployLog: C0DEPLOYLOG, announcements: ${ANNOUNCE} }
releases:
  pollInterval: 100ms
  changelog: CHANGELOG.md
${extra}
environments:
  - name: staging
    steps:
      - name: Deploy
        run: [sh, -c, 'echo deploying {{sha}}']
  - name: production
    requires: { succeededOn: staging }
    approvals: { required: 1, roles: [leads] }
    steps:
      - name: Deploy
        run: [sh, -c, 'echo deploying {{sha}}']
`;
}

function commitFile(repo: TestRepo, file: string, content: string, message: string, author = 'Dana Dev'): string {
  writeFileSync(join(repo.dir, file), content);
  repo.git('add', '-A');
  repo.git('-c', `user.name=${author}`, 'commit', '-q', '-m', message);
  return repo.sha('HEAD');
}

let redisUrl: string;
beforeAll(async () => {
  redisUrl = (await startRedis()).url;
});
afterAll(async () => {
  await stopRedis();
});

async function releaseOf(bot: TestBot, id: string): Promise<ReleaseRecord> {
  const r = await bot.shipmate.deps.releases.store.get(id);
  if (!r) throw new Error(`no release ${id}`);
  return r;
}

async function waitRelease(bot: TestBot, id: string, pred: (r: ReleaseRecord) => boolean, what: string, ms = 20_000): Promise<ReleaseRecord> {
  return eventually(async () => {
    const r = await releaseOf(bot, id);
    return pred(r) ? r : undefined;
  }, ms, what);
}

function statusMessage(bot: TestBot, id: string) {
  return bot.slack.messages(CHANNEL).find((m) => !m.thread_ts && headerText(m).includes(`Release #${id}`));
}

async function approveProduction(bot: TestBot, r: ReleaseRecord): Promise<void> {
  const deployId = r.steps['deploy:production']?.deployId ?? '';
  const gate = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes(`Gates for deploy #${deployId} `) && allText(m).includes(ACTIONS.approve)), 10_000, 'the production gate message');
  await bot.click(gate, `${ACTIONS.approve}:leads`, 'U0LEAD');
}

describe('/release on a local repository', () => {
  let repo: TestRepo;
  let bot: TestBot;
  beforeAll(async () => {
    repo = makeRepo();
    repo.commit('chore: initial commit', 'Ada');
    repo.tag('v1.4.2', { annotated: true });
    repo.commit('feat(api): export datasets as CSV', 'Tara Singh');
    repo.commit('fix: database connection timeout on large queries\n\nCloses #12', 'Sam Okafor');
    repo.commit('perf: generate Q&A pairs twice as fast', 'Tara Singh');
    commitFile(repo, 'README.md', 'x', 'docs: readme');
    bot = await startTestBot({ configYaml: yaml(repo.dir), redisUrl });
  });
  afterAll(async () => {
    await bot?.stop();
    repo?.remove();
  });

  it('bumps from the latest tag, drafts the notes, waits for production sign-off, then tags, announces and merges back; again changes nothing', async () => {
    // a migration added in the range is a database change
    commitFile(repo, 'migrate_20260207_add_usage_constraints.sql', '-- add columns', 'feat: usage constraints on Q&A pairs\n\nDEPLOY: set ENABLE_MONITORING=true', 'Ada');
    const base = repo.sha('main');

    const res = await bot.command('/release', 'minor');
    expect(String(res.json.text)).toMatch(/Release #\d+ \(minor\) started/);
    const id = /Release #(\d+)/.exec(String(res.json.text))?.[1] ?? '';

    // a second /release while this one runs starts nothing
    const again = await bot.command('/release', 'patch');
    expect(String(again.json.text)).toContain('already under way');

    let r = await waitRelease(bot, id, (x) => x.steps['deploy:production']?.deployId !== undefined, 'the production deploy to be requested');
    expect(r).toMatchObject({ version: '1.5.0', tag: 'v1.5.0', branch: 'release/v1.5.0', baseSha: base, previousTag: 'v1.4.2' });
    expect(repo.sha('release/v1.5.0')).toBe(base);
    expect(r.notes).toContain('## New Features');
    expect(r.notes).toContain('*api:* export datasets as CSV');
    expect(r.notes).toContain('## Bug Fixes\n- database connection timeout on large queries');
    expect(r.notes).toContain('## Improvements\n- generate Q&A pairs twice as fast');
    expect(r.notes).toContain('## Database Changes\n- Adds `migrate_20260207_add_usage_constraints.sql`');
    expect(r.notes).toContain('## Breaking Changes\nNone');
    expect(r.notes).toContain('set ENABLE_MONITORING=true');
    expect(r.notes).toContain('## Contributors\n- Ada, Dana Dev, Sam Okafor, Tara Singh');
    expect(r.steps['deploy:staging']?.status).toBe('done');

    // the notes are in the status message's thread, for review
    const status = await eventually(() => statusMessage(bot, id), 5_000, 'the status message');
    const thread = await eventually(() => bot.slack.thread(CHANNEL, status.ts).find((m) => allText(m).includes('Draft release notes')), 5_000, 'the notes in the thread');
    expect(allText(thread)).toContain('export datasets as CSV');

    // someone edits them in the modal before they are published
    const withButton = await eventually(() => { const m = statusMessage(bot, id); return m && allText(m).includes(RELEASE_ACTIONS.editNotes) ? m : undefined; }, 5_000, 'the edit button');
    await bot.click(withButton, RELEASE_ACTIONS.editNotes, 'U0ALICE');
    const opened = await eventually(() => [...bot.slack.views.values()].find((v) => (v.view as { callback_id?: string }).callback_id === RELEASE_VIEWS.editNotes), 5_000, 'the notes modal');
    const edited = `${r.notes ?? ''}\n## Highlights\nThe CSV export everyone asked for.\n`;
    await bot.submitView({ id: opened.id, callback_id: RELEASE_VIEWS.editNotes, private_metadata: id, state: { values: { [NOTES_BLOCK]: { [NOTES_INPUT]: { type: 'plain_text_input', value: edited } } } } }, 'U0ALICE');
    r = await waitRelease(bot, id, (x) => x.notesEditedBy === 'U0ALICE', 'the edited notes');
    await eventually(() => bot.slack.thread(CHANNEL, status.ts).find((m) => allText(m).includes('The CSV export everyone asked for')), 5_000, 'the edited notes in the thread');

    // production waits for its sign-off; then everything after it happens
    expect(r.status).toBe('running');
    await approveProduction(bot, r);
    r = await waitRelease(bot, id, (x) => x.status === 'succeeded', 'the release to finish');

    // the annotated tag at the deployed commit, with the notes
    expect(repo.git('cat-file', '-t', 'v1.5.0')).toBe('tag');
    expect(repo.sha('v1.5.0')).toBe(base);
    expect(repo.git('tag', '-l', '--format=%(contents)', 'v1.5.0')).toContain('The CSV export everyone asked for');
    // the CHANGELOG entry on the release branch, merged back into main with it
    expect(repo.git('show', 'release/v1.5.0:CHANGELOG.md')).toContain('## Release v1.5.0');
    expect(repo.git('show', 'main:CHANGELOG.md')).toContain('## Release v1.5.0');
    expect(repo.git('merge-base', '--is-ancestor', 'release/v1.5.0', 'main')).toBe('');
    expect(r.steps['merge:main']?.status).toBe('done');
    // the announcement, with the edited notes
    const announcement = await eventually(() => bot.slack.messages(ANNOUNCE).find((m) => (m.text ?? '').includes('Release v1.5.0 is out')), 5_000, 'the announcement');
    expect(announcement.text).toContain('The CSV export everyone asked for');
    // both deploys deployed the release commit
    for (const env of ['staging', 'production']) {
      const d = await bot.shipmate.deps.store.get(r.steps[`deploy:${env}`]?.deployId ?? '');
      expect(d).toMatchObject({ status: 'succeeded', sha: base, ref: 'release/v1.5.0', release: { id, type: 'release' } });
    }

    // every step run again (a worker that died after each one): nothing is made twice
    const mainBefore = repo.sha('main');
    const tagsBefore = repo.git('tag', '-l');
    await bot.shipmate.deps.releases.store.update(id, (x) => {
      x.status = 'running';
      for (const k of ['branch', 'tag', 'publish', 'changelog', 'announce', 'merge:main', 'followups']) delete x.steps[k];
    });
    expect(await bot.shipmate.deps.releases.advance(id)).toBe('done');
    expect(repo.git('tag', '-l')).toBe(tagsBefore);
    expect(repo.sha('main')).toBe(mainBefore);
    expect(repo.git('show', 'main:CHANGELOG.md').match(/## Release v1\.5\.0/g)).toHaveLength(1);
    await new Promise((ok) => setTimeout(ok, 300));
    expect(bot.slack.messages(ANNOUNCE).filter((m) => (m.text ?? '').includes('Release v1.5.0 is out'))).toHaveLength(1);
    expect((await releaseOf(bot, id)).steps.tag?.detail).toContain('already there');
  });

  it('/release status says where the release stands; bad input gets the usage and starts nothing', async () => {
    const status = await bot.command('/release', 'status');
    expect(String(status.json.text)).toContain('v1.5.0');
    const bad = await bot.command('/release', 'huge');
    expect(String(bad.json.text)).toContain('neither a bump');
    expect(String(bad.json.text)).toContain('Usage');
    const older = await bot.command('/release', '1.2.0 --dry-run');
    expect(String(older.json.text)).toContain('not after the latest version 1.5.0');
  });

  it('--dry-run shows the version, branch and notes and creates nothing', async () => {
    repo.checkout('main');
    repo.commit('feat!: drop the v1 API\n\nBREAKING CHANGE: /api/v1 is gone', 'Tara Singh');
    const before = repo.git('for-each-ref');
    const res = await bot.command('/release', 'minor --dry-run');
    const text = String(res.json.text);
    expect(text).toContain('*v2.0.0* (major after 1.5.0');
    expect(text).toContain('breaking changes force a major');
    expect(text).toContain('/api/v1 is gone');
    expect(repo.git('for-each-ref')).toBe(before);
  });
});

describe('first release, no conventional commits, merge-back conflict', () => {
  it('starts at 0.1.0 with no tag, lists unconventional commits as they are, and reports a conflicting merge back without forcing it', async () => {
    const repo = makeRepo();
    commitFile(repo, 'app.txt', 'one\n', 'initial import', 'Ada');
    commitFile(repo, 'notes.txt', 'a\n', 'Update stuff', 'Bo');
    const bot = await startTestBot({ configYaml: yaml(repo.dir, '  mergeBackTo: [main, develop]').replace('    approvals: { required: 1, roles: [leads] }\n', ''), redisUrl });
    try {
      repo.branch('develop');
      // develop changes app.txt after the release branch is cut: merging the release's CHANGELOG-free history is fine,
      // but a hotfix-style change on the release branch to the same line conflicts (made on the branch below).
      const res = await bot.command('/release', 'minor');
      const id = /Release #(\d+)/.exec(String(res.json.text))?.[1] ?? '';
      const r0 = await waitRelease(bot, id, (x) => x.steps.plan?.status === 'done', 'the plan');
      expect(r0).toMatchObject({ version: '0.1.0', tag: 'v0.1.0' });
      expect(r0.why).toContain('first release');
      expect(r0.notes).toMatch(/## Other Changes\n- Update stuff \(\w{7}\)\n- initial import \(\w{7}\)/);
      expect(r0.notes).toContain('None of the 2 commits follows the conventional commit format');
      const r = await waitRelease(bot, id, (x) => x.status === 'succeeded' || x.status === 'failed', 'the release to end');
      expect(r.status).toBe('succeeded');
      expect(repo.sha('v0.1.0')).toBe(r.sha);
      expect(r.steps['merge:develop']?.status).toBe('done');

      // second release: the release branch and develop both change app.txt → the merge back into develop conflicts
      commitFile(repo, 'app.txt', 'two\n', 'feat: two', 'Ada');
      const res2 = await bot.command('/release', 'patch');
      const id2 = /Release #(\d+)/.exec(String(res2.json.text))?.[1] ?? '';
      await waitRelease(bot, id2, (x) => x.steps.branch?.status === 'done', 'the second branch');
      repo.checkout('develop');
      commitFile(repo, 'app.txt', 'develop\n', 'feat: develop edits app', 'Bo');
      repo.checkout('main');
      const developBefore = repo.sha('develop');
      const r2 = await waitRelease(bot, id2, (x) => x.status === 'succeeded', 'the second release');
      expect(r2.version).toBe('0.1.1');
      expect(r2.steps['merge:main']?.status).toBe('done');
      expect(r2.steps['merge:develop']).toMatchObject({ status: 'conflict' });
      expect(r2.steps['merge:develop']?.detail).toContain('`app.txt`');
      expect(repo.sha('develop')).toBe(developBefore); // nothing forced
      const said = await eventually(() => bot.slack.messages(CHANNEL).find((m) => (m.text ?? '').includes(`back into \`develop\` conflicts in \`app.txt\``)), 5_000, 'the conflict message');
      expect(said.text).toContain('Nothing was forced');
    } finally {
      await bot.stop();
      repo.remove();
    }
  });
});
