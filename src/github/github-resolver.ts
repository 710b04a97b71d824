// The RefResolver for `repository: owner/name` on GitHub: a ref (branch, tag, short or full SHA) becomes a commit
// through the commits API, names for "did you mean" come from branches and tags, and what lies between two
// commits comes from compare. Resolution runs inside a Slack request (900 ms): a full SHA is one call, otherwise
// the commit and the tag list are asked for at once, and the tag list is reused for a few seconds.
import { distance as levenshtein } from 'fastest-levenshtein';
import { FULL_SHA_RE, SHA_RE, type CommitInfo, type RefResolver, type ResolvedRef } from '../versions/resolver.js';
import type { GithubClient } from './client.js';

/** How long one tag listing is reused (as the git resolver does with ls-remote). */
const TAGS_TTL_MS = 5_000;

export class GithubRefResolver implements RefResolver {
  private tagList?: { at: number; listing: Promise<Array<{ name: string; sha: string }>> };

  constructor(private readonly github: GithubClient) {}

  async resolve(ref: string): Promise<ResolvedRef | undefined> {
    const { octokit, owner, repo } = this.github;
    try {
      // A full SHA names itself; a tag spelled as 40 hex digits is not worth a second call.
      if (FULL_SHA_RE.test(ref)) return { ref, sha: (await octokit.repos.getCommit({ owner, repo, ref })).data.sha };
      // Start the tag listing alongside the commit lookup (swallowed here: it only names the tag).
      const tags = this.tags().catch(() => []);
      const { data } = await octokit.repos.getCommit({ owner, repo, ref });
      const tag = (await tags).find((t) => t.sha === data.sha && (t.name === ref || !SHA_RE.test(ref)))?.name;
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

  private tags(): Promise<Array<{ name: string; sha: string }>> {
    const now = Date.now();
    if (this.tagList && now - this.tagList.at < TAGS_TTL_MS) return this.tagList.listing;
    const { octokit, owner, repo } = this.github;
    const listing = octokit.repos.listTags({ owner, repo, per_page: 100 }).then(({ data }) => data.map((t) => ({ name: t.name, sha: t.commit.sha })));
    this.tagList = { at: now, listing };
    // A failed listing is not kept: the next caller asks again.
    listing.catch(() => {
      if (this.tagList?.listing === listing) this.tagList = undefined;
    });
    return listing;
  }
}
