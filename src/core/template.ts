// {{variable}} substitution for step arguments, URLs and env values. Unknown variables are an error, not blank.

export interface DeployVars {
  env: string;
  version: string;
  ref: string;
  user: string;
  deployId: string;
}

export function renderTemplate(template: string, vars: DeployVars): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (match, name: string) => {
    if (name in vars) return String(vars[name as keyof DeployVars]);
    throw new Error(`unknown variable ${match} (known: ${Object.keys(vars).map((k) => `{{${k}}}`).join(', ')})`);
  });
}

const KNOWN = new Set<string>(['env', 'version', 'ref', 'user', 'deployId'] satisfies Array<keyof DeployVars>);

/** Unknown {{variables}} in a config value (checked when the config loads). */
export function templateProblems(template: string): string[] {
  const known = KNOWN;
  return [...template.matchAll(/\{\{\s*([a-zA-Z]+)\s*\}\}/g)].filter((m) => !known.has(m[1] ?? '')).map((m) => `unknown variable ${m[0]}`);
}
