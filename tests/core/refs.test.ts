// Ref rules against git itself: generated ref-like names (with "..", "/.", ".lock", "@{", "//", control
// characters, unicode...) are put to `git check-ref-format --allow-onelevel`; Shipmate may refuse more than
// git, never less, and over the characters it allows it agrees with git exactly.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { refProblem } from '../../src/core/refs.js';

const RUNS = 2_000;
const SEED = 8_10;

/** git's verdict for many names in one shell (one `git check-ref-format` each, no node spawn per name). */
function gitAcceptsAll(names: readonly string[]): boolean[] {
  const script = 'while IFS= read -r -d "" n; do if git check-ref-format --allow-onelevel "$n" 2>/dev/null; then printf 1; else printf 0; fi; done';
  const res = spawnSync('bash', ['-c', script], { input: names.map((n) => `${n}\0`).join(''), encoding: 'utf8', maxBuffer: 1 << 20 });
  if (res.status !== 0 || res.stdout.length !== names.length) throw new Error(`git check-ref-format batch failed: ${res.stderr}`);
  return [...res.stdout].map((c) => c === '1');
}

/**
 * Checks a property over `arb` with git's answers fetched up front for the values fast-check will
 * generate (same seed), and one by one only for the names it tries while shrinking a failure.
 */
function assertAgainstGit(arb: fc.Arbitrary<string>, check: (name: string, gitAccepts: boolean) => boolean): void {
  const samples = fc.sample(arb, { seed: SEED, numRuns: RUNS });
  const verdicts = gitAcceptsAll(samples);
  const known = new Map(samples.map((name, i) => [name, verdicts[i] ?? false]));
  const git = (name: string) => known.get(name) ?? gitAcceptsAll([name])[0] ?? false;
  fc.assert(
    fc.property(arb, (name) => check(name, git(name))),
    { seed: SEED, numRuns: RUNS },
  );
}

// Pieces that exercise every rule of git-check-ref-format(1), plus our own narrower ones.
const tricky = [
  'a', 'b', 'Z', '0', '9', 'main', 'v1', '.', '..', '...', '/', '//', '/.', '.lock', 'x.lock', '@', '@{', '{', '}',
  '-', '+', '_', '~', '^', ':', '?', '*', '[', ']', '\\', ' ', '\t', '\n', '\x01', '\x1f', '\x7f', 'é', 'ü', '日本',
  '\u{1F680}', '$', '`', ';', '|', '&', '!', '"', "'", '<', '>', '(', ')', '#', '%', '=', ',',
];
const anything = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...tricky) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) }), { maxLength: 12 })
  .map((parts) => parts.join('').replace(/\0/g, '')); // a NUL cannot be passed as an argument

// Only the characters Shipmate allows, starting as it requires: here it must agree with git both ways.
const allowedPieces = ['a', 'b', 'Z', '7', 'main', 'v1', '.', '..', '/', '//', '/.', '.lock', 'lock', '-', '+', '_', 'x.lock/'];
const allowedOnly = fc
  .tuple(fc.constantFrom('a', 'Z', '7', 'v'), fc.array(fc.constantFrom(...allowedPieces), { maxLength: 10 }))
  .map(([first, rest]) => first + rest.join(''));

describe('refProblem', () => {
  it('refuses what git refuses, including a/.b and a/b.lock/c', () => {
    const refused = ['a/.b', 'a/b.lock/c', 'a/.', '.a', 'a..b', 'main.lock', 'feature/', 'a//b', 'a.', '@', 'a@{1}', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', 'a\x7fb', ''];
    for (const name of refused) expect(refProblem(name), JSON.stringify(name)).toBeDefined();
    expect(gitAcceptsAll(refused)).toEqual(refused.map(() => false));
    expect(refProblem('a/.b')).toBe('is not a tag, branch or commit sha (its part ".b" starts with ".")');
    expect(refProblem('a/b.lock/c')).toBe('is not a tag, branch or commit sha (its part "b.lock" ends with ".lock")');
  });

  it('accepts tags, branches and shas', () => {
    const accepted = ['v1.4.0', 'main', 'release/1.4', 'a1b2c3d', 'feature/JIRA-12_fix', '1.4.0-rc.1+build.5', 'a/b.locked', 'a/lock.b'];
    for (const name of accepted) expect(refProblem(name), name).toBeUndefined();
    expect(gitAcceptsAll(accepted)).toEqual(accepted.map(() => true));
  });

  it('never accepts a name git refuses (generated names)', () => {
    assertAgainstGit(anything, (name, gitAccepts) => refProblem(name) === undefined ? gitAccepts : true);
  });

  it('agrees with git on every name made of the characters it allows (generated names)', () => {
    assertAgainstGit(allowedOnly, (name, gitAccepts) => (refProblem(name) === undefined) === gitAccepts || name.length > 200);
  });

  it('refuses option-like, refspec-like, overlong and shell-like names git would take', () => {
    const gitTakes = ['+main', '_x', 'a$b', 'a;b', 'a|b', 'a`b`', "a'b", 'a!b', 'a#b', 'é', `a${'b'.repeat(200)}`];
    expect(gitAcceptsAll(gitTakes)).toEqual(gitTakes.map(() => true));
    for (const name of gitTakes) expect(refProblem(name), name).toBeDefined();
    expect(refProblem('-rf')).toMatch(/starts with "-"/);
  });
});
