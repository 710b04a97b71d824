// Where a config's `repository` points: `owner/name` on GitHub, any git URL, or a local path. Parsed once when the
// config loads, so a typo stops start-up instead of a deploy.
import { isAbsolute, resolve } from 'node:path';

export interface RepositorySpec {
  /** As written in the config. */
  spec: string;
  kind: 'github' | 'remote' | 'local';
  /** What git is given: a URL, or an absolute path for a local repository. */
  gitUrl: string;
  /** GitHub only. */
  owner?: string;
  name?: string;
  /** Commit pages are `${webUrl}/commit/<sha>` (GitHub's by default; set it for GitLab, Gitea, …). */
  webUrl?: string;
}

/** The config's form: a string, or an object when a web URL for commit links is wanted too. */
export type RepositoryConfig = string | { url: string; webUrl?: string };

const GITHUB_RE = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9_.-]{1,100})$/;
const URL_RE = /^(?:https?|ssh|git|file):\/\/[^\s]+$/;
/** scp-like ssh: git@host:team/app.git */
const SCP_RE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

/** Why `value` is not a repository Shipmate can use; undefined when it is fine. */
export function repositoryProblem(value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  if (value.startsWith('-')) return 'starts with "-" (git would read it as an option)';
  if (/\s/.test(value)) return 'contains spaces';
  if (isLocalPath(value) || GITHUB_RE.test(value) || URL_RE.test(value) || SCP_RE.test(value)) return undefined;
  return 'is not owner/name (GitHub), a git URL (https://, ssh://, git@host:path, file://) or a local path (starting with / or .)';
}

function isLocalPath(value: string): boolean {
  return value.startsWith('/') || value.startsWith('./') || value.startsWith('../') || value === '.' || /^\.[^/]/.test(value);
}

/** Parses a checked repository value; local paths are resolved against `cwd`. */
export function parseRepository(value: RepositoryConfig, cwd = process.cwd()): RepositorySpec {
  const spec = typeof value === 'string' ? value : value.url;
  const webUrl = typeof value === 'string' ? undefined : value.webUrl?.replace(/\/+$/, '');
  if (isLocalPath(spec)) return { spec, kind: 'local', gitUrl: isAbsolute(spec) ? spec : resolve(cwd, spec), ...(webUrl ? { webUrl } : {}) };
  const gh = GITHUB_RE.exec(spec);
  if (gh?.[1] && gh[2]) {
    const name = gh[2].replace(/\.git$/, '');
    return { spec, kind: 'github', owner: gh[1], name, gitUrl: `https://github.com/${gh[1]}/${name}.git`, webUrl: webUrl ?? `https://github.com/${gh[1]}/${name}` };
  }
  // A github.com URL links to its commits without being told.
  const onGithub = /^(?:https:\/\/|git@)github\.com[/:]([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(spec);
  const guessed = onGithub ? `https://github.com/${onGithub[1]}/${onGithub[2]}` : undefined;
  return { spec, kind: 'remote', gitUrl: spec, ...(webUrl ?? guessed ? { webUrl: webUrl ?? guessed } : {}) };
}

export function commitUrl(repo: Pick<RepositorySpec, 'webUrl'>, sha: string): string | undefined {
  return repo.webUrl ? `${repo.webUrl}/commit/${sha}` : undefined;
}
