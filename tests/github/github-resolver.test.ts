// The GitHub RefResolver against the stand-in: tags, branches, short and full SHAs become commits; an unknown
// ref is undefined with near names suggested; commit lists and distances come from compare.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGithubClient, type GithubClient } from '../../src/github/client.js';
import { GithubRefResolver } from '../../src/github/github-resolver.js';
import { createLogger } from '../../src/core/logger.js';
import { standinSettings, startGithubStandin, type GithubStandin } from '../helpers/github-standin.js';

let gh: GithubStandin;
let resolver: GithubRefResolver;

beforeAll(async () => {
  gh = await startGithubStandin();
  resolver = new GithubRefResolver(createGithubClient(standinSettings(gh), `${gh.owner}/${gh.repo}`, createLogger({ level: 'silent' })) as GithubClient);
});
afterAll(() => gh.stop());

it('resolves tags, branches and SHAs, suggests near names, lists commits and counts the distance', async () => {
  const a = gh.commit('main', 'feat: a', 'ada');
  const b = gh.commit('main', 'fix: b', 'bob');
  const c = gh.commit('main', 'feat: c', 'cy');
  gh.tags.set('v1.0.0', a);
  gh.tags.set('v1.1.0', c);
  expect(await resolver.resolve('v1.0.0')).toEqual({ ref: 'v1.0.0', sha: a, tag: 'v1.0.0' });
  expect(await resolver.resolve('main')).toEqual({ ref: 'main', sha: c, tag: 'v1.1.0' });
  expect(await resolver.resolve(b.slice(0, 7))).toEqual({ ref: b.slice(0, 7), sha: b });
  expect(await resolver.resolve(b)).toEqual({ ref: b, sha: b });
  expect(await resolver.resolve('v1.2.0')).toBeUndefined();
  expect(await resolver.suggestions('v1.1.1')).toEqual(expect.arrayContaining(['v1.1.0', 'v1.0.0']));
  expect(await resolver.suggestions('mian')).toContain('main');
  const between = await resolver.commitsBetween(a, c, 10);
  expect(between.map((x) => [x.sha, x.message])).toEqual([[c, 'feat: c'], [b, 'fix: b']]);
  expect(between[0]?.url).toBe(`https://github.example/acme/shop/commit/${c}`);
  expect(await resolver.commitsBetween(a, c, 1)).toHaveLength(1);
  expect(await resolver.distance(c, a)).toEqual({ ahead: 2, behind: 0 });
  gh.fault = { mode: 'down' };
  await expect(resolver.resolve('main')).rejects.toMatchObject({ status: 500 }); // GitHub's trouble is not "unknown ref"
  gh.fault = undefined;
  expect(gh.problems).toEqual([]);
});
