// How a typed ref becomes a commit, and what lies between two commits: one interface, a git and a GitHub implementation.

export interface ResolvedRef {
  ref: string;
  sha: string;
  tag?: string;
}

export interface CommitInfo {
  sha: string;
  message: string;
  author: string;
  url?: string;
  at?: number;
}

export interface RefResolver {
  resolve(ref: string): Promise<ResolvedRef | undefined>;
  suggestions(ref: string): Promise<string[]>;
  commitsBetween(fromSha: string | undefined, toSha: string, limit: number): Promise<CommitInfo[]>;
  distance(aSha: string, bSha: string): Promise<{ ahead: number; behind: number } | undefined>;
}
