// What a deploy changes: the commits between what the environment runs and the commit going out. Computed by
// the worker when a deploy starts (never inside a Slack request) and stored on the record, so every later
// rendering of the status message shows the same list without asking git again.
import type { CommitInfo, RefResolver } from './resolver.js';

/** How many commits the status message lists; the rest are counted ("and 12 more"). */
export const COMMITS_SHOWN = 10;

export interface Changes {
  commits: CommitInfo[];
  /** All commits going out, when known (the list may be capped). */
  commitCount?: number;
}

/**
 * The commits from `fromSha` (exclusive) to `toSha`, newest first. Undefined when git cannot tell within
 * `timeoutMs` (a first clone of a big remote, say): the deploy goes on without the list.
 */
export async function changesBetween(resolver: RefResolver, fromSha: string | undefined, toSha: string, timeoutMs = 20_000): Promise<Changes | undefined> {
  if (fromSha === toSha) return { commits: [], commitCount: 0 };
  const work = (async (): Promise<Changes> => {
    const [commits, apart] = await Promise.all([
      resolver.commitsBetween(fromSha, toSha, COMMITS_SHOWN),
      fromSha ? resolver.distance(toSha, fromSha) : Promise.resolve(undefined),
    ]);
    // Going back (a rollback) lists nothing going out: the count of commits taken away is `behind`.
    return { commits, ...(apart ? { commitCount: apart.ahead } : {}) };
  })();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((ok) => (timer = setTimeout(() => ok(undefined), timeoutMs)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}
