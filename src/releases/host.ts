// What a release needs from where the code lives, whoever answers: GitHub's API (github-host.ts) or a git
// repository on this machine (git-host.ts, the playground's demo repository). Every write is check-before-create:
// asked twice (a retry after an outage, a restarted worker), it finds what the first call made and makes nothing new.
import type { RangeCommit } from './notes.js';
import type { Tagged } from './versioning.js';

export type Made = 'created' | 'existed';

export type MergeOutcome =
  | { merged: true; sha: string; how: 'merged' | 'fast-forward' | 'up-to-date' }
  | { merged: false; conflicts: string[] };

export interface ReleaseHost {
  /** How the host is named in messages: "acme/shop on GitHub", "/srv/demo-repo". */
  readonly name: string;
  tags(): Promise<Tagged[]>;
  /** The commit a branch points at, or undefined when there is no such branch. */
  branchSha(branch: string): Promise<string | undefined>;
  /** The commits in `toSha` and not in `fromSha` (all of its history when undefined), and the files the range adds. */
  range(fromSha: string | undefined, toSha: string): Promise<{ commits: RangeCommit[]; added: string[] }>;
  createBranch(branch: string, sha: string): Promise<Made>;
  /** An annotated tag at `sha`; an existing tag elsewhere is an error (never moved). */
  createTag(tag: string, sha: string, message: string): Promise<Made>;
  /** The hosted release for the tag with these notes (GitHub); the git host keeps them in the annotated tag. */
  publishRelease(tag: string, title: string, notes: string): Promise<{ made: Made; url?: string }>;
  /** Adds `entry` at the top of `path` on `branch` (after a first line starting with "# "), unless `marker` is in the file. */
  prependToFile(branch: string, path: string, entry: string, marker: string, message: string): Promise<Made>;
  /** Merges `head` into `base` with a merge commit; a conflict merges nothing and says which files conflict. */
  merge(base: string, head: string, message: string): Promise<MergeOutcome>;
  /** A link to a tag's or branch's page, when the host has pages. */
  link?(kind: 'tag' | 'branch' | 'compare', name: string): string | undefined;
}

export class HostError extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
    this.name = 'HostError';
  }
}
