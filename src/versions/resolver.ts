// What Shipmate needs to know about a repository's commits, whoever answers: git itself (git-resolver.ts) or the
// GitHub API. Resolution runs inside a Slack request, so implementations must answer fast or not at all.

/** A ref resolved to the commit it names at one moment. */
export interface ResolvedRef {
  /** What was asked for: "v1.4.0", "main", "abc1234". */
  ref: string;
  /** The full 40-hex commit SHA. */
  sha: string;
  /** Set when `ref` is a tag. */
  tag?: string;
}

export interface CommitInfo {
  sha: string;
  /** The first line of the message. */
  message: string;
  author: string;
  /** A link to the commit, when the repository has a web page. */
  url?: string;
  /** Commit time, ms since the epoch. */
  at?: number;
}

export interface RefResolver {
  /** The commit `ref` (tag, branch, short or full SHA) names now; undefined when nothing does. Throws RefAmbiguousError or a transport error. */
  resolve(ref: string): Promise<ResolvedRef | undefined>;
  /** Branch and tag names nearest to `ref`, for the reply to an unknown one. */
  suggestions(ref: string): Promise<string[]>;
  /** Commits reachable from `toSha` and not from `fromSha`, newest first, at most `limit`. */
  commitsBetween(fromSha: string | undefined, toSha: string, limit: number): Promise<CommitInfo[]>;
  /** How far `aSha` is ahead of and behind `bSha` (commits in a not in b, and in b not in a); undefined when either is unknown. */
  distance(aSha: string, bSha: string): Promise<{ ahead: number; behind: number } | undefined>;
}

/** A short SHA that names more than one commit: the person must type more of it. */
export class RefAmbiguousError extends Error {
  constructor(readonly ref: string, readonly candidates: string[] = []) {
    super(`\`${ref}\` is a short SHA that names more than one commit${candidates.length ? ` (${candidates.slice(0, 4).map((c) => c.slice(0, 12)).join(', ')})` : ''}: give more of it.`);
    this.name = 'RefAmbiguousError';
  }
}

/** The repository could not be asked in time (or at all). */
export class ResolverUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResolverUnavailableError';
  }
}

export const SHA_RE = /^[0-9a-f]{7,40}$/i;
export const FULL_SHA_RE = /^[0-9a-f]{40}$/i;

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
