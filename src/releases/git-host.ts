// Releases in a git repository on this machine (a local-path `repository`, e.g. the playground's demo repository):
// branches, annotated tags and merges are made with git itself, without touching any checkout's working tree
// (merges use `git merge-tree --write-tree`, git ≥ 2.38), so the repository may be someone's clone.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { HostError, type Made, type MergeOutcome, type ReleaseHost } from './host.js';
import type { RangeCommit } from './notes.js';
import type { Tagged } from './versioning.js';

const run = promisify(execFile);
const SEP = '\x1e';

export class GitReleaseHost implements ReleaseHost {
  readonly name: string;

  /** `env`: the process environment read at start-up (deps.versions.gitEnv), never read here. */
  constructor(private readonly dir: string, private readonly processEnv: NodeJS.ProcessEnv = {}, private readonly identity = { name: 'Shipmate', email: 'shipmate@localhost' }) {
    this.name = dir;
  }

  private async git(args: string[], opts: { allowFail?: boolean; input?: string } = {}): Promise<{ out: string; code: number }> {
    const env = { ...this.processEnv, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: this.identity.name, GIT_AUTHOR_EMAIL: this.identity.email, GIT_COMMITTER_NAME: this.identity.name, GIT_COMMITTER_EMAIL: this.identity.email };
    try {
      const child = run('git', ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd: this.dir, env, maxBuffer: 32 * 1024 * 1024, timeout: 30_000 });
      if (opts.input !== undefined) child.child.stdin?.end(opts.input);
      const { stdout } = await child;
      return { out: stdout.trimEnd(), code: 0 };
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
      if (opts.allowFail && typeof e.code === 'number') return { out: (e.stdout ?? '').trimEnd(), code: e.code };
      throw new HostError(`git ${args[0]} failed in ${this.dir}: ${(e.stderr || e.message).trim().split('\n')[0]}`, false);
    }
  }

  private async sha(ref: string): Promise<string | undefined> {
    const { out, code } = await this.git(['rev-parse', '-q', '--verify', `${ref}^{commit}`], { allowFail: true });
    return code === 0 ? out : undefined;
  }

  async tags(): Promise<Tagged[]> {
    const { out } = await this.git(['for-each-ref', '--format=%(refname:short)%09%(*objectname)%09%(objectname)', 'refs/tags']);
    return out.split('\n').filter(Boolean).map((l) => {
      const [name = '', peeled, own = ''] = l.split('\t');
      return { name, sha: peeled || own };
    });
  }

  branchSha(branch: string): Promise<string | undefined> {
    return this.sha(`refs/heads/${branch}`);
  }

  async range(fromSha: string | undefined, toSha: string): Promise<{ commits: RangeCommit[]; added: string[] }> {
    const spec = fromSha ? `${fromSha}..${toSha}` : toSha;
    const { out } = await this.git(['log', `--format=${SEP}%H%x00%an%x00%B`, spec]);
    const commits = out.split(SEP).filter((c) => c.trim()).map((c) => {
      const [sha = '', author = '', message = ''] = c.split('\0');
      return { sha: sha.trim(), author, message: message.trim() };
    });
    const added = fromSha
      ? (await this.git(['diff', '--name-only', '--diff-filter=A', fromSha, toSha])).out
      : (await this.git(['ls-tree', '-r', '--name-only', toSha])).out;
    return { commits, added: added.split('\n').filter(Boolean) };
  }

  async createBranch(branch: string, sha: string): Promise<Made> {
    if (await this.branchSha(branch)) return 'existed';
    // Only if it still does not exist: update-ref with an all-zero old value refuses to overwrite.
    const { code } = await this.git(['update-ref', `refs/heads/${branch}`, sha, '0'.repeat(40)], { allowFail: true });
    return code === 0 ? 'created' : 'existed';
  }

  async createTag(tag: string, sha: string, message: string): Promise<Made> {
    const at = await this.sha(`refs/tags/${tag}`);
    if (at) {
      if (at !== sha) throw new HostError(`tag ${tag} already exists at ${at.slice(0, 7)}, not at ${sha.slice(0, 7)}; it is never moved`, false);
      return 'existed';
    }
    await this.git(['tag', '-a', tag, '-F', '-', sha], { input: message });
    return 'created';
  }

  /** A local repository has no release pages: the annotated tag holds the notes. */
  async publishRelease(tag: string): Promise<{ made: Made }> {
    if (!(await this.sha(`refs/tags/${tag}`))) throw new HostError(`tag ${tag} does not exist`, false);
    return { made: 'existed' };
  }

  async prependToFile(branch: string, path: string, entry: string, marker: string, message: string): Promise<Made> {
    const tip = await this.branchSha(branch);
    if (!tip) throw new HostError(`branch ${branch} does not exist`, false);
    const current = await this.git(['show', `${tip}:${path}`], { allowFail: true });
    const text = current.code === 0 ? current.out : '';
    if (text.includes(marker)) return 'existed';
    const next = withEntry(text, entry);
    const blob = (await this.git(['hash-object', '-w', '--stdin'], { input: next })).out;
    // A temporary index built from the branch's tree: no working tree is touched.
    const index = `${this.dir}/.git/shipmate-index-${process.pid}-${Date.now()}`;
    const withIndex = async (args: string[]) => (await run('git', args, { cwd: this.dir, env: { ...this.processEnv, GIT_INDEX_FILE: index } })).stdout.trim();
    await withIndex(['read-tree', tip]);
    await withIndex(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`]);
    const tree = await withIndex(['write-tree']);
    await rm(index, { force: true });
    const commit = (await this.git(['commit-tree', tree, '-p', tip, '-m', message])).out;
    const { code } = await this.git(['update-ref', `refs/heads/${branch}`, commit, tip], { allowFail: true });
    if (code !== 0) throw new HostError(`branch ${branch} moved while ${path} was being updated; try again`, true);
    return 'created';
  }

  async merge(base: string, head: string, message: string): Promise<MergeOutcome> {
    const baseSha = await this.branchSha(base);
    const headSha = (await this.branchSha(head)) ?? (await this.sha(head));
    if (!baseSha) throw new HostError(`branch ${base} does not exist`, false);
    if (!headSha) throw new HostError(`${head} does not exist`, false);
    if ((await this.git(['merge-base', '--is-ancestor', headSha, baseSha], { allowFail: true })).code === 0) return { merged: true, sha: baseSha, how: 'up-to-date' };
    const result = await this.git(['merge-tree', '--write-tree', '--name-only', '--no-messages', baseSha, headSha], { allowFail: true });
    const [tree = '', ...files] = result.out.split('\n');
    if (result.code === 1) return { merged: false, conflicts: [...new Set(files.filter(Boolean))] };
    if (result.code !== 0) throw new HostError(`git merge-tree failed for ${head} into ${base}`, false);
    const commit = (await this.git(['commit-tree', tree, '-p', baseSha, '-p', headSha, '-m', message])).out;
    const { code } = await this.git(['update-ref', `refs/heads/${base}`, commit, baseSha], { allowFail: true });
    if (code !== 0) throw new HostError(`${base} moved during the merge; try again`, true);
    return { merged: true, sha: commit, how: 'merged' };
  }
}

/** The entry goes under the file's title line ("# Changelog"), or at the top when there is none. */
export function withEntry(text: string, entry: string): string {
  const body = entry.replace(/^# /, '## ').replace(/\n## /g, '\n### ').trimEnd();
  if (!text.trim()) return `# Changelog\n\n${body}\n`;
  const [first = '', ...rest] = text.split('\n');
  if (first.startsWith('# ')) return `${first}\n\n${body}\n\n${rest.join('\n').replace(/^\n+/, '')}`.trimEnd() + '\n';
  return `${body}\n\n${text}`;
}
