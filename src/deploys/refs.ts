// Validates refs from chat: a tag, branch or sha shape only, never something that could become an option or shell text.

/** Branch/tag names per git check-ref-format, narrowed further: no leading "-", no shell metacharacters. */
const REF = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)(?!.*[/.]$)[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}$/;

export function refProblem(ref: string): string | undefined {
  if (ref.length > 200) return 'is longer than 200 characters';
  if (ref.startsWith('-')) return 'starts with "-" (it could be read as an option)';
  if (/[\s`$;&|<>(){}[\]*?!~^:\\'"]/.test(ref)) return 'contains characters not allowed in a git ref';
  if (!REF.test(ref)) return 'is not a tag, branch or commit sha';
  return undefined;
}

export function isRef(ref: string): boolean {
  return refProblem(ref) === undefined;
}
