// RefResolver on git itself, for any repository git can reach. Names are resolved with `git ls-remote` (one call
// lists every branch and tag, cached a few seconds for remote repositories); SHAs, commit lists and distances
// are read with `git rev-parse`/`log`/`rev-list`, directly in a local repository, or in a blob-less mirror of a
// remote one kept under the cache directory and fetched when a commit it needs is missing. git runs with argv
// (execFile), never a shell, never prompts, and every call has a timeout.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { distance as levenshtein } from 'fastest-levenshtein';
import { commitUrl, type RepositorySpec } from './repository.js';
import { FULL_SHA_RE, RefAmbiguousError, ResolverUnavailableError, SHA_RE, type CommitInfo, type RefResolver, type ResolvedRef } from './resolver.js';

export interface GitResolverOptions {
  repo: RepositorySpec;
  /** Where mirrors of remote repositories are kept (one directory each). */
  cacheDir: string;
  /** How long one ls-remote answer is reused for a remote repository (a local one is always read afresh). */
  refsTtlMs?: number;
  /** Time limit of a quick git call (ls-remote, rev-parse, log); clones and fetches get longer. */
  timeoutMs?: number;
  /** git's environment; prompts are always switched off. */
  env?: NodeJS.ProcessEnv;
}

class GitError extends Error {
  constructor(message: string, readonly stderr: string, readonly timedOut: boolean) {
    super(message);
    this.name = 'GitError';
  }
}

/** refs/heads/* and refs/tags/* (peeled: an annotated tag maps to its commit) → commit SHA. */
type RefMap = Map<string, string>;

const FIELD = '\x1f';

export class GitResolver implements RefResolver {
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly refsTtlMs: number;
  private refs?: { at: number; listing: Promise<RefMap> };
  private mirror?: Promise<string>;
  private fetching?: Promise<void>;

  constructor(private readonly opts: GitResolverOptions) {
    // Never wait for a password or a host-key question: a missing credential is an error, at once.
    this.env = { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: opts.env?.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes', LC_ALL: 'C' };
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.refsTtlMs = opts.refsTtlMs ?? (opts.repo.kind === 'local' ? 0 : 5_000);
  }

  private get local(): boolean {
    return this.opts.repo.kind === 'local';
  }

  private git(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
    return new Promise((ok, fail) => {
      execFile('git', args, { cwd: opts.cwd, env: this.env, timeout: opts.timeoutMs ?? this.timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        if (!err) return ok(stdout);
        const timedOut = (err as { killed?: boolean }).killed === true;
        fail(new GitError(timedOut ? `git ${args[0]} timed out` : `git ${args[0]} failed: ${stderr.trim().split('\n').pop() ?? err.message}`, stderr, timedOut));
      });
    });
  }

  /** Every branch and tag with its commit. */
  private listRefs(): Promise<RefMap> {
    const now = Date.now();
    if (this.refs && now - this.refs.at < this.refsTtlMs) return this.refs.listing;
    const listing = this.git(['ls-remote', '--heads', '--tags', this.opts.repo.gitUrl]).then(parseLsRemote, (err: Error) => {
      throw new ResolverUnavailableError(`could not list the branches and tags of ${this.opts.repo.spec}: ${err.message}`);
    });
    this.refs = { at: now, listing };
    listing.catch(() => {
      if (this.refs?.listing === listing) this.refs = undefined;
    });
    return listing;
  }

  async resolve(ref: string): Promise<ResolvedRef | undefined> {
    const refs = await this.listRefs();
    const full = ref.startsWith('refs/') ? refs.get(ref) : undefined;
    if (full) return { ref, sha: full, ...(ref.startsWith('refs/tags/') ? { tag: ref.slice('refs/tags/'.length) } : {}) };
    // git's own order: a tag wins over a branch of the same name.
    const tag = refs.get(`refs/tags/${ref}`);
    if (tag) return { ref, sha: tag, tag: ref };
    const branch = refs.get(`refs/heads/${ref}`);
    if (branch) return { ref, sha: branch };
    if (!SHA_RE.test(ref)) return undefined;
    const sha = await this.commitOf(ref.toLowerCase());
    return sha ? { ref, sha } : undefined;
  }

  /** The full SHA of the commit a (short) SHA names, in the local repository or the mirror (fetched when missing). */
  private async commitOf(prefix: string): Promise<string | undefined> {
    if (this.local) return this.revParse(this.opts.repo.gitUrl, prefix);
    const dir = await this.mirrorDir();
    return (await this.revParse(dir, prefix)) ?? (await this.fetch().then(() => this.revParse(dir, prefix)));
  }

  private async revParse(dir: string, prefix: string): Promise<string | undefined> {
    try {
      const out = (await this.git(['rev-parse', '--verify', '--end-of-options', `${prefix}^{commit}`], { cwd: dir })).trim();
      return FULL_SHA_RE.test(out) ? out : undefined;
    } catch (err) {
      if (!(err instanceof GitError) || err.timedOut) throw new ResolverUnavailableError(`could not look up ${prefix} in ${this.opts.repo.spec}: ${(err as Error).message}`);
      if (/ambiguous/i.test(err.stderr)) throw new RefAmbiguousError(prefix, await this.candidates(dir, prefix));
      return undefined;
    }
  }

  /** The commits a short SHA could mean (git lists every kind of object; only commits count). */
  private async candidates(dir: string, prefix: string): Promise<string[]> {
    const out = await this.git(['rev-parse', `--disambiguate=${prefix}`], { cwd: dir }).catch(() => '');
    const shas = out.split('\n').filter((l) => FULL_SHA_RE.test(l));
    const kinds = await Promise.all(shas.map((s) => this.git(['cat-file', '-t', s], { cwd: dir }).then((t) => t.trim(), () => '')));
    return shas.filter((_, i) => kinds[i] === 'commit');
  }

  async suggestions(ref: string): Promise<string[]> {
    const names = [...new Set([...(await this.listRefs()).keys()].map((r) => r.replace(/^refs\/(heads|tags)\//, '')))];
    const wanted = ref.toLowerCase();
    return names
      .map((name) => ({ name, d: levenshtein(wanted, name.toLowerCase()) - (name.toLowerCase().startsWith(wanted) || wanted.startsWith(name.toLowerCase()) ? 2 : 0) }))
      .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
      .slice(0, 5)
      .map((s) => s.name);
  }

  async commitsBetween(fromSha: string | undefined, toSha: string, limit: number): Promise<CommitInfo[]> {
    const dir = await this.readyFor([toSha, ...(fromSha ? [fromSha] : [])]);
    if (!dir) return [];
    const range = fromSha ? [toSha, `^${fromSha}`] : [toSha];
    const out = await this.git(['log', '--no-color', `--format=%H${FIELD}%an${FIELD}%ct${FIELD}%s`, `--max-count=${Math.max(0, Math.floor(limit))}`, '--end-of-options', ...range, '--'], { cwd: dir });
    return out.split('\n').filter(Boolean).map((line) => {
      const [sha = '', author = '', at = '', message = ''] = line.split(FIELD);
      const url = commitUrl(this.opts.repo, sha);
      return { sha, author, message, at: Number(at) * 1000, ...(url ? { url } : {}) };
    });
  }

  async distance(aSha: string, bSha: string): Promise<{ ahead: number; behind: number } | undefined> {
    const dir = await this.readyFor([aSha, bSha]);
    if (!dir) return undefined;
    const out = await this.git(['rev-list', '--left-right', '--count', '--end-of-options', `${aSha}...${bSha}`, '--'], { cwd: dir });
    const [ahead, behind] = out.trim().split(/\s+/).map(Number);
    return ahead !== undefined && behind !== undefined && Number.isFinite(ahead) && Number.isFinite(behind) ? { ahead, behind } : undefined;
  }

  /** A directory holding every one of `shas` (fetching the mirror once if needed), or undefined when they are not all there. */
  private async readyFor(shas: string[]): Promise<string | undefined> {
    const dir = this.local ? this.opts.repo.gitUrl : await this.mirrorDir();
    const have = async () => (await Promise.all(shas.map((s) => this.revParse(dir, s).catch(() => undefined)))).every(Boolean);
    if (await have()) return dir;
    if (this.local) return undefined;
    await this.fetch();
    return (await have()) ? dir : undefined;
  }

  /** The mirror of a remote repository, cloned on first use (blob-less: commit lists and distances need no file contents). */
  private mirrorDir(): Promise<string> {
    this.mirror ??= (async () => {
      const dir = join(this.opts.cacheDir, `${createHash('sha256').update(this.opts.repo.gitUrl).digest('hex').slice(0, 16)}.git`);
      if (existsSync(join(dir, 'HEAD'))) return dir;
      mkdirSync(this.opts.cacheDir, { recursive: true });
      // Cloned beside it and renamed: another process (or a crash half-way) never leaves a half mirror in its place.
      const tmp = `${dir}.${randomUUID()}.tmp`;
      try {
        await this.git(['clone', '--quiet', '--mirror', '--filter=blob:none', '--', this.opts.repo.gitUrl, tmp], { timeoutMs: 300_000 });
        if (!existsSync(join(dir, 'HEAD'))) renameSync(tmp, dir);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      return dir;
    })();
    this.mirror.catch(() => (this.mirror = undefined));
    return this.mirror;
  }

  /** Brings the mirror up to date; concurrent callers share one fetch. */
  private fetch(): Promise<void> {
    this.fetching ??= (async () => {
      try {
        await this.git(['fetch', '--quiet', '--prune', 'origin'], { cwd: await this.mirrorDir(), timeoutMs: 120_000 });
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }
}

function parseLsRemote(out: string): RefMap {
  const refs: RefMap = new Map();
  const peeled: RefMap = new Map();
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (!sha || !name || !FULL_SHA_RE.test(sha)) continue;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  // An annotated tag's own object is not a commit: its peeled line (`^{}`) names the commit.
  for (const [name, sha] of peeled) refs.set(name, sha);
  return refs;
}
