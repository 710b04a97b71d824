// The git RefResolver against real repositories (git init, commits, tags, branches in temp dirs): a local path read
// directly, and the same repository as a remote (file:// URL) read with ls-remote and a blob-less mirror.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitResolver } from '../../src/versions/git-resolver.js';
import { parseRepository, repositoryProblem } from '../../src/versions/repository.js';
import { RefAmbiguousError } from '../../src/versions/resolver.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';

let repo: TestRepo;
let cache: string;
const shas: Record<string, string> = {};

beforeAll(() => {
  repo = makeRepo();
  cache = mkdtempSync(join(tmpdir(), 'shipmate-git-cache-'));
  shas.init = repo.commit('chore: initial commit', 'Ada');
  shas.one = repo.commit('feat: first feature', 'Ada');
  repo.tag('v1.0.0', { annotated: true });
  shas.fix = repo.commit('fix: a bug', 'Bo');
  repo.tag('v1.0.1');
  shas.two = repo.commit('feat: second feature', 'Cy');
  repo.branch('release/1.1');
  shas.three = repo.commit('feat: third feature', 'Ada');
});

afterAll(() => {
  repo.remove();
  rmSync(cache, { recursive: true, force: true });
});

const local = () => new GitResolver({ repo: parseRepository(repo.dir), cacheDir: cache });

describe('repository in config', () => {
  it('reads owner/name as GitHub, URLs as remotes and paths as local', () => {
    expect(parseRepository('acme/app')).toMatchObject({ kind: 'github', gitUrl: 'https://github.com/acme/app.git', webUrl: 'https://github.com/acme/app' });
    expect(parseRepository('https://git.example.com/team/app.git')).toMatchObject({ kind: 'remote', gitUrl: 'https://git.example.com/team/app.git' });
    expect(parseRepository('git@github.com:acme/app.git')).toMatchObject({ kind: 'remote', webUrl: 'https://github.com/acme/app' });
    expect(parseRepository({ url: 'ssh://git@gitea.local/team/app.git', webUrl: 'https://gitea.local/team/app/' })).toMatchObject({ webUrl: 'https://gitea.local/team/app' });
    expect(parseRepository('.data/demo-repo', '/srv/shipmate')).toMatchObject({ kind: 'local', gitUrl: '/srv/shipmate/.data/demo-repo' });
    expect(repositoryProblem('--upload-pack=touch /tmp/x')).toContain('starts with "-"');
    expect(repositoryProblem('not a repo')).toContain('contains spaces');
    expect(repositoryProblem('app')).toContain('is not owner/name');
  });
});

describe.each([
  ['a local path', () => local()],
  ['a remote URL (ls-remote + mirror)', () => new GitResolver({ repo: parseRepository(`file://${repo.dir}`), cacheDir: cache, refsTtlMs: 0 })],
])('GitResolver on %s', (_name, make) => {
  it('resolves an annotated tag to its commit (peeled), a lightweight tag, a branch, and a full or short SHA', async () => {
    const r = make();
    expect(await r.resolve('v1.0.0')).toEqual({ ref: 'v1.0.0', sha: shas.one, tag: 'v1.0.0' });
    expect(await r.resolve('v1.0.1')).toEqual({ ref: 'v1.0.1', sha: shas.fix, tag: 'v1.0.1' });
    expect(await r.resolve('main')).toEqual({ ref: 'main', sha: shas.three });
    expect(await r.resolve('release/1.1')).toEqual({ ref: 'release/1.1', sha: shas.two });
    expect(await r.resolve(shas.two!)).toEqual({ ref: shas.two, sha: shas.two });
    expect(await r.resolve(shas.fix!.slice(0, 7))).toEqual({ ref: shas.fix!.slice(0, 7), sha: shas.fix });
    expect(await r.resolve(shas.fix!.slice(0, 7).toUpperCase())).toMatchObject({ sha: shas.fix });
  });

  it('knows nothing of an unknown name or SHA, and suggests the nearest branch and tag names', async () => {
    const r = make();
    expect(await r.resolve('v1.0.2')).toBeUndefined();
    expect(await r.resolve('deadbeefdeadbeef')).toBeUndefined();
    expect(await r.resolve('mian')).toBeUndefined();
    expect((await r.suggestions('mian'))[0]).toBe('main');
    expect((await r.suggestions('v1.0.2')).slice(0, 2).sort()).toEqual(['v1.0.0', 'v1.0.1']);
    expect(await r.suggestions('release-1.1')).toContain('release/1.1');
  });

  it('lists the commits between two SHAs newest first with authors, and counts how far apart they are', async () => {
    const r = make();
    const commits = await r.commitsBetween(shas.one, shas.three!, 10);
    expect(commits.map((c) => [c.message, c.author])).toEqual([['feat: third feature', 'Ada'], ['feat: second feature', 'Cy'], ['fix: a bug', 'Bo']]);
    expect(commits[0]).toMatchObject({ sha: shas.three });
    expect(commits[0]?.at).toBeGreaterThan(1_600_000_000_000);
    expect(await r.commitsBetween(shas.one, shas.three!, 2)).toHaveLength(2);
    expect((await r.commitsBetween(undefined, shas.one!, 10)).map((c) => c.message)).toEqual(['feat: first feature', 'chore: initial commit']);
    expect(await r.distance(shas.three!, shas.one!)).toEqual({ ahead: 3, behind: 0 });
    expect(await r.distance(shas.one!, shas.three!)).toEqual({ ahead: 0, behind: 3 });
    expect(await r.distance(shas.one!, 'f'.repeat(40))).toBeUndefined();
  });
});

describe('GitResolver freshness', () => {
  it('a remote mirror fetches a commit it lacks; a local repository is read afresh', async () => {
    const other = makeRepo();
    try {
      const first = other.commit('feat: one');
      const remote = new GitResolver({ repo: parseRepository(`file://${other.dir}`), cacheDir: cache, refsTtlMs: 0 });
      const direct = new GitResolver({ repo: parseRepository(other.dir), cacheDir: cache });
      expect(await remote.distance(first, first)).toEqual({ ahead: 0, behind: 0 }); // clones the mirror
      const second = other.commit('feat: two');
      expect(await direct.resolve('main')).toMatchObject({ sha: second });
      expect(await remote.resolve('main')).toMatchObject({ sha: second });
      expect((await remote.commitsBetween(first, second, 5)).map((c) => c.message)).toEqual(['feat: two']);
      expect(await remote.resolve(second.slice(0, 9))).toMatchObject({ sha: second });
    } finally {
      other.remove();
    }
  });

  it('reuses one ls-remote answer for a few seconds on a remote repository', async () => {
    const other = makeRepo();
    try {
      const first = other.commit('feat: one');
      const remote = new GitResolver({ repo: parseRepository(`file://${other.dir}`), cacheDir: cache, refsTtlMs: 60_000 });
      expect(await remote.resolve('main')).toMatchObject({ sha: first });
      other.commit('feat: two');
      expect(await remote.resolve('main')).toMatchObject({ sha: first });
    } finally {
      other.remove();
    }
  });
});

describe('an ambiguous short SHA', () => {
  it('is refused with the commits it could mean', async () => {
    const amb = makeRepo();
    try {
      // 26,040 commits with fixed dates: their SHAs are always the same, and two of them (c18542 and c26039)
      // share the prefix d326535.
      let stream = '';
      for (let i = 0; i < 26_040; i++) stream += `commit refs/heads/many\ncommitter T <t@e> ${1_700_000_000 + i} +0000\ndata ${`c${i}`.length}\nc${i}\n\n`;
      execFileSync('git', ['fast-import', '--quiet'], { cwd: amb.dir, input: stream });
      const r = new GitResolver({ repo: parseRepository(amb.dir), cacheDir: cache });
      const err = await r.resolve('d326535').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RefAmbiguousError);
      expect((err as RefAmbiguousError).candidates).toHaveLength(2);
      expect((err as Error).message).toContain('names more than one commit');
      // one more digit tells them apart
      const [a] = (err as RefAmbiguousError).candidates;
      expect(await r.resolve(a!.slice(0, 12))).toMatchObject({ sha: a });
    } finally {
      amb.remove();
    }
  }, 20_000);
});
