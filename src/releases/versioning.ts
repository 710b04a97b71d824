// The next version of a release, from the repository's semver tags (the `semver` package does the arithmetic):
// `/release minor` after v1.4.2 is 1.5.0; a pre-release (v2.0.0-rc.1) counts as the latest when it is; no tag yet
// starts at 0.1.0 for minor/patch and 1.0.0 for major; breaking changes force a major.
import semver from 'semver';

export type Bump = 'major' | 'minor' | 'patch';

export interface Tagged {
  name: string;
  sha: string;
}

/** The highest semver tag (pre-releases included, so 2.0.0-rc.1 beats 1.9.0), or undefined when none is semver. */
export function latestTag(tags: readonly Tagged[], prefix: string): { tag: Tagged; version: string } | undefined {
  let best: { tag: Tagged; version: string } | undefined;
  for (const tag of tags) {
    if (!tag.name.startsWith(prefix)) continue;
    const v = semver.valid(tag.name.slice(prefix.length));
    if (v && (!best || semver.gt(v, best.version))) best = { tag, version: v };
  }
  return best;
}

/** The latest released (not pre-release) tag: the previous release's notes run from it. */
export function latestRelease(tags: readonly Tagged[], prefix: string): { tag: Tagged; version: string } | undefined {
  return latestTag(tags.filter((t) => semver.prerelease(t.name.slice(prefix.length)) === null), prefix);
}

export type VersionRequest = { bump: Bump } | { exact: string };

/** Parses `/release` words: a bump or an explicit version ("1.5.0", "v1.5.0"); undefined when neither. */
export function parseVersionRequest(word: string): VersionRequest | undefined {
  if (word === 'major' || word === 'minor' || word === 'patch') return { bump: word };
  const exact = semver.valid(word.replace(/^v/, ''));
  return exact ? { exact } : undefined;
}

export interface NextVersion {
  version: string;
  bump: Bump | 'exact';
  /** Why the version is what it is, said in the reply and the status message. */
  why: string;
}

/**
 * The version to release. A pre-release latest (2.0.0-rc.1) with `major` finishes it as 2.0.0 (semver's own rule);
 * breaking changes turn a minor or patch into a major (after 1.0.0; before it, a minor, as semver allows).
 * An explicit version must be greater than the latest.
 */
export function nextVersion(latest: string | undefined, request: VersionRequest, breaking: boolean): NextVersion {
  if ('exact' in request) {
    if (latest && !semver.gt(request.exact, latest)) throw new Error(`${request.exact} is not after the latest version ${latest}: give a higher one, or a bump (major, minor, patch).`);
    return { version: request.exact, bump: 'exact', why: `asked for ${request.exact}${breaking ? ' (the range has breaking changes)' : ''}` };
  }
  let bump = request.bump;
  let forced = '';
  if (breaking && bump !== 'major') {
    if (latest && semver.major(latest) === 0) {
      if (bump === 'patch') {
        bump = 'minor';
        forced = ' (breaking changes: a minor before 1.0.0)';
      }
    } else {
      forced = ` (breaking changes force a major, not a ${bump})`;
      bump = 'major';
    }
  }
  if (!latest) {
    const first = bump === 'major' ? '1.0.0' : '0.1.0';
    return { version: first, bump, why: `first release: no semver tag yet${forced}` };
  }
  const version = semver.inc(latest, bump);
  if (!version) throw new Error(`cannot bump ${latest}`);
  return { version, bump, why: `${bump} after ${latest}${forced}` };
}

/** The patch after what production runs (a hotfix): 1.4.2 → 1.4.3; no tag yet: 0.0.1. */
export function hotfixVersion(latest: string | undefined): string {
  if (!latest) return '0.0.1';
  return semver.inc(semver.prerelease(latest) ? semver.coerce(latest)?.version ?? latest : latest, 'patch') ?? '0.0.1';
}
