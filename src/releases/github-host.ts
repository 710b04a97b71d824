// Releases on GitHub through the one Octokit client (retry and throttling plugins): refs for branches, annotated
// tag objects, releases, the merges API and the contents API for the CHANGELOG. Each write is checked before it
// is made, so a retried step (GitHub was down half-way, a worker restarted) finds what it made the first time.
import type { GithubClient } from '../github/client.js';
import { describeGithubError } from '../github/client.js';
import { HostError, type Made, type MergeOutcome, type ReleaseHost } from './host.js';
import type { RangeCommit } from './notes.js';
import type { Tagged } from './versioning.js';
import { withEntry } from './git-host.js';

const statusOf = (err: unknown) => (err as { status?: number }).status;

/** GitHub failing (5xx, network, rate limit) is worth a retry; a refusal (4xx) is not. */
function hostError(err: unknown, what: string): HostError {
  const status = statusOf(err);
  return new HostError(`${what}: ${describeGithubError(err)}`, status === undefined || status >= 500 || status === 403 || status === 429);
}

export class GithubReleaseHost implements ReleaseHost {
  readonly name: string;

  constructor(private readonly gh: GithubClient, private readonly webUrl?: string) {
    this.name = `${gh.owner}/${gh.repo} on GitHub`;
  }

  private get repo() {
    return { owner: this.gh.owner, repo: this.gh.repo };
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof HostError) throw err;
      throw hostError(err, what);
    }
  }

  /** A ref's target, or undefined when GitHub says there is none (404). */
  private async ref(ref: string): Promise<{ sha: string; type: string } | undefined> {
    try {
      const { data } = await this.gh.octokit.rest.git.getRef({ ...this.repo, ref });
      return { sha: data.object.sha, type: data.object.type };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw hostError(err, `reading ${ref}`);
    }
  }

  tags(): Promise<Tagged[]> {
    return this.call('listing tags', async () => (await this.gh.octokit.paginate(this.gh.octokit.rest.repos.listTags, { ...this.repo, per_page: 100 })).map((t) => ({ name: t.name, sha: t.commit.sha })));
  }

  async branchSha(branch: string): Promise<string | undefined> {
    return (await this.ref(`heads/${branch}`))?.sha;
  }

  range(fromSha: string | undefined, toSha: string): Promise<{ commits: RangeCommit[]; added: string[] }> {
    return this.call('reading the commits since the previous release', async () => {
      const author = (c: { author: { login?: string } | null; commit: { author: { name?: string } | null } }) => (c.author?.login ? `@${c.author.login}` : c.commit.author?.name ?? 'unknown');
      if (!fromSha) {
        const list = await this.gh.octokit.paginate(this.gh.octokit.rest.repos.listCommits, { ...this.repo, sha: toSha, per_page: 100 });
        return { commits: list.map((c) => ({ sha: c.sha, message: c.commit.message, author: author(c) })), added: [] };
      }
      const { data } = await this.gh.octokit.rest.repos.compareCommitsWithBasehead({ ...this.repo, basehead: `${fromSha}...${toSha}`, per_page: 250 });
      return {
        commits: [...data.commits].reverse().map((c) => ({ sha: c.sha, message: c.commit.message, author: author(c) })),
        added: (data.files ?? []).filter((f) => f.status === 'added').map((f) => f.filename),
      };
    });
  }

  async createBranch(branch: string, sha: string): Promise<Made> {
    if (await this.ref(`heads/${branch}`)) return 'existed';
    try {
      await this.gh.octokit.rest.git.createRef({ ...this.repo, ref: `refs/heads/${branch}`, sha });
      return 'created';
    } catch (err) {
      // Made by a request whose answer was lost: GitHub says the reference exists.
      if (statusOf(err) === 422 && (await this.ref(`heads/${branch}`))) return 'existed';
      throw hostError(err, `creating branch ${branch}`);
    }
  }

  /** The commit a tag ref names: an annotated tag's ref points at its tag object, which points at the commit. */
  private async tagCommit(tag: string): Promise<string | undefined> {
    const ref = await this.ref(`tags/${tag}`);
    if (!ref) return undefined;
    if (ref.type !== 'tag') return ref.sha;
    return this.call(`reading tag ${tag}`, async () => (await this.gh.octokit.rest.git.getTag({ ...this.repo, tag_sha: ref.sha })).data.object.sha);
  }

  async createTag(tag: string, sha: string, message: string): Promise<Made> {
    const at = await this.tagCommit(tag);
    if (at) {
      if (at !== sha) throw new HostError(`tag ${tag} already exists at ${at.slice(0, 7)}, not at ${sha.slice(0, 7)}; it is never moved`, false);
      return 'existed';
    }
    return this.call(`creating tag ${tag}`, async () => {
      const { data } = await this.gh.octokit.rest.git.createTag({ ...this.repo, tag, message, object: sha, type: 'commit' });
      try {
        await this.gh.octokit.rest.git.createRef({ ...this.repo, ref: `refs/tags/${tag}`, sha: data.sha });
      } catch (err) {
        if (statusOf(err) === 422 && (await this.tagCommit(tag)) === sha) return 'existed';
        throw err;
      }
      return 'created';
    });
  }

  async publishRelease(tag: string, title: string, notes: string): Promise<{ made: Made; url?: string }> {
    try {
      const { data } = await this.gh.octokit.rest.repos.getReleaseByTag({ ...this.repo, tag });
      return { made: 'existed', url: data.html_url };
    } catch (err) {
      if (statusOf(err) !== 404) throw hostError(err, `reading the release of ${tag}`);
    }
    return this.call(`creating the GitHub release ${tag}`, async () => {
      const { data } = await this.gh.octokit.rest.repos.createRelease({ ...this.repo, tag_name: tag, name: title, body: notes });
      return { made: 'created' as const, url: data.html_url };
    });
  }

  async prependToFile(branch: string, path: string, entry: string, marker: string, message: string): Promise<Made> {
    let text = '';
    let sha: string | undefined;
    try {
      const { data } = await this.gh.octokit.rest.repos.getContent({ ...this.repo, path, ref: branch });
      if (Array.isArray(data) || data.type !== 'file') throw new HostError(`${path} is not a file`, false);
      text = Buffer.from(data.content, 'base64').toString('utf8');
      sha = data.sha;
    } catch (err) {
      if (err instanceof HostError) throw err;
      if (statusOf(err) !== 404) throw hostError(err, `reading ${path}`);
    }
    if (text.includes(marker)) return 'existed';
    return this.call(`updating ${path}`, async () => {
      await this.gh.octokit.rest.repos.createOrUpdateFileContents({ ...this.repo, path, branch, message, content: Buffer.from(withEntry(text, entry)).toString('base64'), ...(sha ? { sha } : {}) });
      return 'created' as const;
    });
  }

  async merge(base: string, head: string, message: string): Promise<MergeOutcome> {
    try {
      const res = await this.gh.octokit.rest.repos.merge({ ...this.repo, base, head, commit_message: message });
      // 204: nothing to merge (already merged, e.g. by the first attempt of this step).
      if ((res.status as number) === 204) return { merged: true, sha: (await this.branchSha(base)) ?? '', how: 'up-to-date' };
      return { merged: true, sha: res.data.sha, how: 'merged' };
    } catch (err) {
      if (statusOf(err) !== 409) throw hostError(err, `merging ${head} into ${base}`);
    }
    // GitHub's 409 names no files: those changed on both sides since they parted are the ones that conflict.
    const conflicts = await this.call(`comparing ${head} with ${base}`, async () => {
      const files = async (basehead: string) => new Set(((await this.gh.octokit.rest.repos.compareCommitsWithBasehead({ ...this.repo, basehead })).data.files ?? []).map((f) => f.filename));
      const ours = await files(`${head}...${base}`);
      const theirs = await files(`${base}...${head}`);
      return [...theirs].filter((f) => ours.has(f)).sort();
    });
    return { merged: false, conflicts };
  }

  link(kind: 'tag' | 'branch' | 'compare', name: string): string | undefined {
    if (!this.webUrl) return undefined;
    return kind === 'tag' ? `${this.webUrl}/releases/tag/${name}` : kind === 'branch' ? `${this.webUrl}/tree/${name}` : `${this.webUrl}/compare/${name}`;
  }
}
