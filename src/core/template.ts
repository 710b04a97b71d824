// {{variable}} substitution for step arguments, URLs and env values. Unknown variables are an error, not blank.

export interface DeployVars {
  env: string;
  /** The tag when the ref is one, else the ref as typed. */
  version: string;
  ref: string;
  user: string;
  deployId: string;
  /** The full commit SHA the ref resolved to (needs `repository` in the config; '' when absent). */
  sha?: string;
  shortSha?: string;
  /** The commit the environment ran before this deploy ('' when nothing is known). */
  previousSha?: string;
  /** A rollback's: the version it rolls back from, and that version's commit ('' otherwise). */
  rollbackFrom?: string;
  rollbackFromSha?: string;
}

/** A deploy record's variables (the fields of DeployRecord this needs; core does not import deploys/). */
export function deployVars(d: { env: string; version: string; ref: string; requestedBy: string; id: string; sha?: string; previousSha?: string; rollbackFrom?: string; rollbackFromSha?: string }): DeployVars {
  const sha = d.sha ?? '';
  return { env: d.env, version: d.version, ref: d.ref, user: d.requestedBy, deployId: d.id, sha, shortSha: sha.slice(0, 7), previousSha: d.previousSha ?? '', rollbackFrom: d.rollbackFrom ?? '', rollbackFromSha: d.rollbackFromSha ?? '' };
}

export function renderTemplate(template: string, vars: DeployVars): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (match, name: string) => {
    if (Object.hasOwn(vars, name)) return String(vars[name as keyof DeployVars] ?? '');
    // Known, but this deploy has no commit (e.g. queued before `repository` was configured): blank, not an error.
    if ((COMMIT as readonly string[]).includes(name)) return '';
    throw new Error(`unknown variable ${match} (known: ${Object.keys(vars).map((k) => `{{${k}}}`).join(', ')})`);
  });
}

const BASIC = ['env', 'version', 'ref', 'user', 'deployId', 'rollbackFrom'] as const;
/** Known only where versions are commits: the environment (or the config) names a `repository`. */
const COMMIT = ['sha', 'shortSha', 'previousSha', 'rollbackFromSha'] as const;
const KNOWN = new Set<string>([...BASIC, ...COMMIT] satisfies Array<keyof DeployVars>);

/** The variables a config value may use, as shown in error messages. */
export function knownVariables(commits: boolean): string {
  const names = [...BASIC, ...(commits ? COMMIT : [])].map((v) => `{{${v}}}`);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
}

/** Unknown {{variables}} in a config value (checked when the config loads). */
export function templateProblems(template: string): string[] {
  return [...template.matchAll(/\{\{\s*([a-zA-Z]+)\s*\}\}/g)].filter((m) => !KNOWN.has(m[1] ?? '')).map((m) => `unknown variable ${m[0]}`);
}

/** Commit variables ({{sha}}, …) in a config value: they need a `repository` for the environment. */
export function commitVariables(template: string): string[] {
  return [...template.matchAll(/\{\{\s*([a-zA-Z]+)\s*\}\}/g)].filter((m) => (COMMIT as readonly string[]).includes(m[1] ?? '')).map((m) => m[0]);
}
