// Masks secret values (from config `secrets` and tokens in the environment) wherever output is shown or logged.

export type Masker = (text: string) => string;

export function createMasker(secretNames: readonly string[], env: NodeJS.ProcessEnv): Masker {
  const names = new Set([...secretNames, 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'GITHUB_TOKEN']);
  // Longest first so a secret that contains another is masked whole; very short values would mask noise.
  const values = [...names]
    .map((n) => env[n])
    .filter((v): v is string => typeof v === 'string' && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  const pattern = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, '••••••');
}
