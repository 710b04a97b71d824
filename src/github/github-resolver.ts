// The RefResolver for `repository: owner/name` on GitHub: a ref (branch, tag, short or full SHA) becomes a commit
// through the commits API, names for "did you mean" come from branches and tags, and what lies between two
// commits comes from compare.
import { distance as levenshtein } from 'fastest-levenshtein';
import type { CommitInfo, RefResolver, ResolvedRef } from '../versions/resolver.js';
import type { GithubClient } from './client.js';

export class GithubRefResolver implements RefResolver {
  constructor(private readonly github: GithubClient) {}

  async resolve(ref: string): Promise<ResolvedRef | undefined> {
    const { octokit, owner, repo } = this.github;
    try {
      const { data } = await octokit.repos.getCommit({ owner, repo, ref });
      const tag = (await this.tags()).find((t) => t.sha === data.sha && (t.name === ref || !/^[0-9a-f]{7,40}$/.test(ref)))?.name;
      return { ref, sha: data.sha, ...(tag ? { tag } : {}) };
    } catch (err) {
      // 404/422: no such ref (GitHub answers 422 "No commit found"); anything else is GitHub's trouble, not the user's.
      const status = (err as { status?: number }).status;
      if (status === 404 || status === 422) return undefined;
      throw err;
    }
  }

  async suggestions(ref: string): Promise<string[]> {
    const { octokit, owner, repo } = this.github;
    const [branches, tags] = await Promise.all([octokit.repos.listBranches({ owner, repo, per_page: 100 }), this.tags()]);
    const names = [...branches.data.map((b) => b.name), ...tags.map((t) => t.name)];
    return names
      .map((name) => ({ name, d: levenshtein(name.toLowerCase(), ref.toLowerCase()) }))
      .filter((x) => x.d <= Math.max(2, Math.floor(ref.length / 3)))
      .sort((a, b) => a.d - b.d)
      .slice(0, 5)
      .map((x) => x.name);
  }

  async commitsBetween(fromSha: string | undefined, toSha: string, limit: number): Promise<CommitInfo[]> {
    const { octokit, owner, repo } = this.github;
    const toInfo = (c: { sha: string; html_url: string; commit: { message: string; author: { name?: string; date?: string } | null }; author: { login?: string } | null }): CommitInfo => ({
      sha: c.sha, message: c.commit.message.split('\n')[0] ?? '', author: c.author?.login ?? c.commit.author?.name ?? 'unknown', url: c.html_url,
      ...(c.commit.author?.date ? { at: Date.parse(c.commit.author.date) } : {}),
    });
    if (!fromSha) return [toInfo((await octokit.repos.getCommit({ owner, repo, ref: toSha })).data)];
    const { data } = await octokit.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${fromSha}...${toSha}`, per_page: 100 });
    return data.commits.map(toInfo).reverse().slice(0, limit);
  }

  async distance(aSha: string, bSha: string): Promise<{ ahead: number; behind: number } | undefined> {
    const { octokit, owner, repo } = this.github;
    try {
      const { data } = await octokit.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${bSha}...${aSha}`, per_page: 1 });
      return { ahead: data.ahead_by, behind: data.behind_by };
    } catch {
      return undefined;
    }
  }

  private async tags(): Promise<Array<{ name: string; sha: string }>> {
    const { octokit, owner, repo } = this.github;
    const { data } = await octokit.repos.listTags({ owner, repo, per_page: 100 });
    return data.map((t) => ({ name: t.name, sha: t.commit.sha }));
  }
}
