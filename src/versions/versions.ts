// Which repository (and so which RefResolver) each environment's versions come from. Built once in app.ts;
// the GitHub API resolver plugs in through `create`, git answers otherwise.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config, EnvironmentConfig } from '../core/config.js';
import { GitResolver } from './git-resolver.js';
import { parseRepository, type RepositorySpec } from './repository.js';
import type { RefResolver } from './resolver.js';

export type ResolverFactory = (repo: RepositorySpec, fallback: () => RefResolver) => RefResolver;

export interface VersionsOptions {
  /** Where git keeps mirrors of remote repositories (default: a directory under the system's temp dir). */
  cacheDir?: string;
  /** Picks the resolver for a repository; `fallback` is the git one. Default: git for every repository. */
  create?: ResolverFactory;
  /** The process environment read at start-up (app.ts), for the git commands Shipmate runs itself. */
  env?: NodeJS.ProcessEnv;
}

export class Versions {
  private readonly resolvers = new Map<string, RefResolver>();
  private readonly distances = new Map<string, Promise<{ ahead: number; behind: number } | undefined>>();
  private readonly cacheDir: string;

  constructor(private readonly config: Pick<Config, 'repository' | 'environments'>, private readonly opts: VersionsOptions = {}) {
    this.cacheDir = opts.cacheDir ?? join(tmpdir(), `shipmate-git-${process.getuid?.() ?? 'user'}`);
  }

  /** The environment git runs with (release branches and tags in a local repository use it too). */
  get gitEnv(): NodeJS.ProcessEnv | undefined {
    return this.opts.env;
  }

  /** The environment's repository (its own, else the config's), or undefined: then versions are ref names only. */
  repository(env: EnvironmentConfig | string): RepositorySpec | undefined {
    const e = typeof env === 'string' ? this.config.environments.find((x) => x.name === env) : env;
    const value = e?.repository ?? this.config.repository;
    return value === undefined ? undefined : parseRepository(value);
  }

  /**
   * How far commit `a` is ahead of and behind `b` in the environment's repository, waiting at most `waitMs`.
   * Two fixed commits are always the same distance apart, so an answer is kept for good; one that comes too
   * late is kept for the next caller (the overview shows it next time).
   */
  async distance(env: EnvironmentConfig | string, a: string, b: string, waitMs: number): Promise<{ ahead: number; behind: number } | undefined> {
    const resolver = this.resolver(env);
    const repo = this.repository(env);
    if (!resolver || !repo) return undefined;
    const key = `${repo.gitUrl} ${a} ${b}`;
    let known = this.distances.get(key);
    if (!known) {
      known = resolver.distance(a, b).catch(() => undefined);
      this.distances.set(key, known);
      if (this.distances.size > 1000) this.distances.delete(this.distances.keys().next().value as string);
      // An unknown answer (git failed, a commit not there yet) may be known later: ask again next time.
      void known.then((d) => d ?? this.distances.delete(key));
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((ok) => (timer = setTimeout(() => ok(undefined), waitMs)));
    try {
      return await Promise.race([known, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  resolver(env: EnvironmentConfig | string): RefResolver | undefined {
    const repo = this.repository(env);
    if (!repo) return undefined;
    let found = this.resolvers.get(repo.gitUrl);
    if (!found) {
      const git = () => new GitResolver({ repo, cacheDir: this.cacheDir, env: this.opts.env });
      found = this.opts.create ? this.opts.create(repo, git) : git();
      this.resolvers.set(repo.gitUrl, found);
    }
    return found;
  }
}
