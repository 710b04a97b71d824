// Validates refs typed in chat or written as a config's defaultRef: the rules of `git check-ref-format`
// (tests/core/refs.test.ts compares with git itself), narrowed further so a ref can never become an option,
// a refspec or shell text.

const MAX_LENGTH = 200;

/** Why git (or Shipmate) would refuse `ref` as a branch, tag or sha; undefined when it is fine. */
export function refProblem(ref: string): string | undefined {
  if (ref === '') return 'is empty';
  if (ref.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters`;
  if (ref.startsWith('-')) return 'starts with "-" (it could be read as an option)';
  // Narrower than git: no control characters, spaces, unicode, `~^:?*[\` (git's own list) and nothing a shell
  // or a refspec gives meaning to (`$;&|<>(){}'"!@`...).
  if (/[^A-Za-z0-9._/+-]/.test(ref)) return 'contains characters not allowed in a git ref (use letters, digits and . _ / + -)';
  // A leading "+" forces a refspec, a leading "." or "/" is refused by git anyway.
  if (!/^[A-Za-z0-9]/.test(ref)) return 'is not a tag, branch or commit sha (it must start with a letter or digit)';
  const why = gitRuleBroken(ref);
  return why ? `is not a tag, branch or commit sha (${why})` : undefined;
}

/** git check-ref-format's structural rules, for a name already limited to [A-Za-z0-9._/+-]. */
function gitRuleBroken(ref: string): string | undefined {
  if (ref.includes('..')) return 'it contains ".."';
  if (ref.endsWith('.')) return 'it ends with "."';
  for (const part of ref.split('/')) {
    if (part === '') return 'it has an empty part: a leading, trailing or double "/"';
    if (part.startsWith('.')) return `its part "${part}" starts with "."`;
    if (part.endsWith('.lock')) return `its part "${part}" ends with ".lock"`;
  }
  return undefined;
}

export function isRef(ref: string): boolean {
  return refProblem(ref) === undefined;
}
