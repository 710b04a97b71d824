// The Ontos and SarvanOM examples define their flag types as their seeds describe them, and the flags
// config is checked like the rest (unknown environments and roles, a sign-off where nobody approves).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/core/config.js';
import { ofrepKeyWarnings, ofrepKeys } from '../../src/flags/ofrep.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('flag types in the examples', () => {
  it('Ontos: ENABLE_*-style boolean switches, changed by anyone, a key per environment', () => {
    const c = loadConfig(`${root}examples/ontos.yml`, {});
    expect(Object.keys(c.flags.types)).toEqual(['feature']);
    expect(c.flags.types.feature?.value).toBe('boolean');
    expect(c.flags.changers).toEqual({});
    expect(Object.keys(c.flags.apiKeys)).toEqual(['dev', 'staging', 'production']);
  });

  it('SarvanOM: release, experiment, kill-switch and config flags; production role-based, release flags signed off', () => {
    const c = loadConfig(`${root}examples/sarvanom.yml`, {});
    expect(Object.keys(c.flags.types)).toEqual(['release', 'experiment', 'kill-switch', 'config']);
    expect(c.flags.types.config?.value).toBe('json');
    expect(c.flags.types.release?.signoff).toEqual(['production']);
    expect(c.flags.changers.production).toEqual(['engineers']);
  });
});

describe('flags config rules', () => {
  const base = 'roles: { ops: { users: [U0OPS] } }\nenvironments:\n  - name: dev\n    steps: [{ name: B, run: [node] }]\n';
  it('names the bad field', () => {
    const bad = (flags: string) => {
      try {
        parseConfig(`${base}flags:\n${flags}`, 't.yml', {});
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(bad('  changers: { prod: [ops] }')).toContain('flags.changers.prod: environment "prod" is not defined');
    expect(bad('  changers: { dev: [nobody] }')).toContain('flags.changers.dev.0: role "nobody" is not defined');
    expect(bad('  types: { release: { signoff: [dev] } }')).toContain('environment "dev" has no approvals');
    expect(bad('  types: { release: { value: float } }')).toContain('flags.types.release.value');
    expect(bad('  staleAfter: 500d')).toContain('flags.staleAfter');
    expect(parseConfig(base, 't.yml', {}).flags.types.release?.value).toBe('boolean');
  });

  it('reads OFREP keys from the variables it names, and warns about missing or short ones', () => {
    const c = loadConfig(`${root}examples/sarvanom.yml`, {});
    const env = { SARVANOM_OFREP_KEY_PROD: 'prod-key-123456789', SARVANOM_OFREP_KEY_DEV: 'abc12' };
    expect([...ofrepKeys(c, env)]).toEqual([['prod-key-123456789', 'production']]);
    const warnings = ofrepKeyWarnings(c, env);
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('OFREP key for development is not set (SARVANOM_OFREP_KEY_DEV is shorter than 8 characters)');
    expect(warnings.join('\n')).not.toContain('abc12');
  });
});
