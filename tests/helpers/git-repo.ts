// Real local git repositories for tests: init, commits with authors, tags, branches — in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRepo {
  dir: string;
  git(...args: string[]): string;
  /** Commits a change with this message and author; returns its full SHA. */
  commit(message: string, author?: string): string;
  tag(name: string, opts?: { annotated?: boolean; at?: string }): void;
  branch(name: string, at?: string): void;
  checkout(ref: string): void;
  sha(ref: string): string;
  remove(): void;
}

let counter = 0;

export function makeRepo(): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'shipmate-repo-'));
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd: dir, env, encoding: 'utf8' }).trim();
  git('init', '-q');
  return {
    dir,
    git,
    commit(message, author = 'Dana Dev') {
      writeFileSync(join(dir, `change-${counter++}.txt`), message);
      git('add', '-A');
      git('-c', `user.name=${author}`, 'commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    tag(name, opts = {}) {
      git('tag', ...(opts.annotated ? ['-a', '-m', `Release ${name}`] : []), name, opts.at ?? 'HEAD');
    },
    branch(name, at = 'HEAD') {
      git('branch', '-f', name, at);
    },
    checkout(ref) {
      git('checkout', '-q', ref);
    },
    sha: (ref) => git('rev-parse', `${ref}^{commit}`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
