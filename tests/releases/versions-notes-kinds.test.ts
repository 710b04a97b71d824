// The pure parts of releases: the next version from semver tags (pre-releases, first release, breaking changes),
// notes grouped from conventional commits, and the release kinds the Ontos and SarvanOM examples express.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { envForKind, kindFor, kindSummary } from '../../src/gates/release-kinds.js';
import { draftNotes, isBreaking, notesMarkdown } from '../../src/releases/notes.js';
import { hotfixVersion, latestRelease, latestTag, nextVersion, parseVersionRequest } from '../../src/releases/versioning.js';
import { slugify } from '../../src/releases/release-service.js';
import { withEntry } from '../../src/releases/git-host.js';

const tags = (...names: string[]) => names.map((name, i) => ({ name, sha: `sha${i}` }));

describe('next version', () => {
  it('bumps from the highest semver tag, ignoring tags that are not versions', () => {
    const latest = latestTag(tags('v1.4.0', 'v1.10.0', 'v1.9.3', 'nightly', 'v2.0'), 'v');
    expect(latest?.version).toBe('1.10.0');
    expect(nextVersion(latest?.version, { bump: 'minor' }, false).version).toBe('1.11.0');
    expect(nextVersion(latest?.version, { bump: 'patch' }, false).version).toBe('1.10.1');
    expect(nextVersion(latest?.version, { bump: 'major' }, false).version).toBe('2.0.0');
  });
  it('handles pre-releases: the latest may be one, and a release after it finishes it; notes run from the last real release', () => {
    const t = tags('v1.9.0', 'v2.0.0-rc.1');
    expect(latestTag(t, 'v')?.version).toBe('2.0.0-rc.1');
    expect(latestRelease(t, 'v')?.version).toBe('1.9.0');
    expect(nextVersion('2.0.0-rc.1', { bump: 'major' }, false).version).toBe('2.0.0');
    expect(nextVersion('2.0.0-rc.1', { bump: 'patch' }, false).version).toBe('2.0.0');
    expect(parseVersionRequest('v2.1.0-beta.1')).toEqual({ exact: '2.1.0-beta.1' });
  });
  it('starts a first release at 0.1.0 (1.0.0 for a major)', () => {
    expect(nextVersion(undefined, { bump: 'minor' }, false)).toMatchObject({ version: '0.1.0', why: 'first release: no semver tag yet' });
    expect(nextVersion(undefined, { bump: 'major' }, false).version).toBe('1.0.0');
  });
  it('breaking changes force a major (a minor before 1.0.0); an explicit version must be higher', () => {
    expect(nextVersion('1.4.2', { bump: 'patch' }, true)).toMatchObject({ version: '2.0.0', bump: 'major' });
    expect(nextVersion('0.3.1', { bump: 'patch' }, true).version).toBe('0.4.0');
    expect(() => nextVersion('1.5.0', { exact: '1.5.0' }, false)).toThrow('not after the latest version 1.5.0');
    expect(parseVersionRequest('banana')).toBeUndefined();
    expect(hotfixVersion('1.4.2')).toBe('1.4.3');
    expect(hotfixVersion(undefined)).toBe('0.0.1');
  });
});

describe('release notes', () => {
  const commits = [
    { sha: 'a'.repeat(40), author: 'Tara', message: 'feat(api)!: remove the v1 endpoints' },
    { sha: 'b'.repeat(40), author: 'Sam', message: 'fix: totals\n\nBREAKING CHANGE: totals are now in cents' },
    { sha: 'c'.repeat(40), author: 'Ada', message: 'refactor: extract sheet service' },
    { sha: 'd'.repeat(40), author: 'Ada', message: 'chore: bump deps' },
    { sha: 'e'.repeat(40), author: 'Bo', message: 'Merge pull request #4 from x/y\n\nfeat: z' },
    { sha: 'f'.repeat(40), author: 'Bo', message: 'quick fix' },
  ];
  it('groups by type, takes breaking changes from ! and BREAKING CHANGE footers, and migrations from added files', () => {
    const notes = draftNotes(commits, ['schemas/migrate_20260207_x.sql', 'src/app.ts'], /^schemas\/migrate_/);
    expect(notes.features).toEqual(['*api:* remove the v1 endpoints (aaaaaaa)']);
    expect(notes.fixes).toEqual(['totals (bbbbbbb)']);
    expect(notes.improvements).toEqual(['extract sheet service (ccccccc)']);
    expect(notes.breaking).toEqual(['remove the v1 endpoints (aaaaaaa)', 'totals are now in cents (bbbbbbb)']);
    expect(isBreaking(notes)).toBe(true);
    expect(notes.database).toEqual(['Adds `schemas/migrate_20260207_x.sql`']);
    expect(notes.other).toEqual(['quick fix (fffffff)']);
    expect(notes.contributors).toEqual(['Ada', 'Bo', 'Sam', 'Tara']);
    const md = notesMarkdown('v2.0.0', '2026-02-07', notes);
    expect(md.indexOf('## New Features')).toBeLessThan(md.indexOf('## Improvements'));
    expect(md.indexOf('## Bug Fixes')).toBeLessThan(md.indexOf('## Database Changes'));
    expect(md.indexOf('## Breaking Changes')).toBeLessThan(md.indexOf('## Deployment Notes'));
    expect(md).toContain('## Deployment Notes\n- Run migration: `schemas/migrate_20260207_x.sql`');
    expect(md).not.toContain('bump deps');
  });
  it('an empty range says so', () => {
    expect(notesMarkdown('v1.0.1', '2026-01-01', draftNotes([], [], /x/))).toContain('No commits since the previous release.');
  });
  it('branch slugs and CHANGELOG entries', () => {
    expect(slugify('Login returns 500!! (prod)')).toBe('login-returns-500-prod');
    expect(withEntry('# Changelog\n\n## Release v1.0.0 - x\n', '# Release v1.1.0 - y\n\n## New Features\n- a')).toBe('# Changelog\n\n## Release v1.1.0 - y\n\n### New Features\n- a\n\n## Release v1.0.0 - x\n');
  });
});

describe('release kinds in the examples', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  it('Ontos: normal releases keep production’s gates; a hotfix takes the expedited checklist and may skip staging', () => {
    const c = loadConfig(join(root, 'examples/ontos.yml'), {});
    expect(kindFor(c, 'minor')).toBe('normal');
    expect(kindFor(c, 'hotfix')).toBe('hotfix');
    const prod = c.environments.find((e) => e.name === 'production');
    if (!prod) throw new Error('no production');
    expect(envForKind(c, prod, 'normal')).toBe(prod);
    const hot = envForKind(c, prod, 'hotfix');
    expect(hot.checklist.map((s) => s.section)).toEqual(['Expedited Deployment Checklist']);
    expect(hot.approvals).toEqual(prod.approvals);
    expect(c.releaseKinds.hotfix?.maySkip).toEqual(['staging']);
  });
  it('SarvanOM: hotfix (senior engineer + security, 4 hours), feature (product + engineering, canary), major (leadership)', () => {
    const c = loadConfig(join(root, 'examples/sarvanom.yml'), {});
    expect([kindFor(c, 'hotfix'), kindFor(c, 'minor'), kindFor(c, 'patch'), kindFor(c, 'major')]).toEqual(['hotfix', 'feature', 'feature', 'major']);
    const prod = c.environments.find((e) => e.name === 'production');
    if (!prod) throw new Error('no production');
    expect(envForKind(c, prod, 'hotfix').approvals?.roles).toEqual(['senior_engineers', 'security_team']);
    expect(envForKind(c, prod, 'major').approvals?.roles).toEqual(['engineering_leadership', 'product_leadership']);
    expect(kindSummary(c, 'hotfix', 'from /hotfix')).toContain('deadline: production within 4 hours of the request');
    expect(kindSummary(c, 'feature', 'from /release')).toContain('canary rollout in production');
  });
});
