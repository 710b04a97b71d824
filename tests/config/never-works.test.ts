// Configs that load but could never work are refused at start-up, each with the path and why: roles that
// exist only through Object.prototype, approvals nobody can give, promotion cycles, a defaultRef git would
// refuse, and durations a timer cannot hold (30d fired after 7 ms) or that cannot be meant (0.0001 s).
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/core/config.js';

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'bad.yml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('parseConfig accepted a config that can never work');
}

const ROLES = `roles:
  tech_lead: { users: [U0LEAD] }
  ops: { users: [U0OPS1, U0OPS2] }
  security: { users: [U0SEC], groups: [S0SECURITY] }
`;
/** One environment with `lines` added (each indented under it). */
function oneEnv(lines: string, top = ROLES): string {
  return `${top}environments:\n  - name: production\n${lines.replace(/^/gm, '    ')}\n    steps: [{ name: Build, run: [make] }]\n`;
}

describe('roles', () => {
  it('a deployer role that exists only on Object.prototype ("constructor") is not defined', () => {
    expect(problemsOf(oneEnv('deployers: [constructor, tostring]'))).toEqual([
      'environments.0.deployers.0: role "constructor" is not defined under roles',
      'environments.0.deployers.1: role "tostring" is not defined under roles',
    ]);
    expect(problemsOf(oneEnv('approvals: { required: 1, roles: [constructor] }'))).toEqual(['environments.0.approvals.roles.0: role "constructor" is not defined under roles']);
    expect(problemsOf(oneEnv('postDeploySignoff: { role: constructor }'))).toEqual(['environments.0.postDeploySignoff.role: role "constructor" is not defined under roles']);
  });

  it('an approval role that is not defined', () => {
    expect(problemsOf(oneEnv('approvals: { required: 1, roles: [tech_lead, qa] }'))).toEqual(['environments.0.approvals.roles.1: role "qa" is not defined under roles']);
  });

  it('a role named "constructor" that is defined is fine', () => {
    expect(() => parseConfig(oneEnv('deployers: [constructor]', 'roles: { constructor: { users: [U0BOB] } }\n'), 'ok.yml', {})).not.toThrow();
  });
});

describe('approvals nobody could ever give', () => {
  it('required: 3 with one role and distinctRoles', () => {
    expect(problemsOf(oneEnv('approvals: { required: 3, roles: [security], distinctRoles: true }'))).toEqual([
      'environments.0.approvals.required: 3 approvals from different roles can never be given: approvals.roles lists 1',
    ]);
  });

  it('more approvals than the people the roles list (one approval per person)', () => {
    expect(problemsOf(oneEnv('approvals: { required: 4, roles: [tech_lead, ops] }'))).toEqual([
      'environments.0.approvals.required: 4 approvals can never be given: only 3 people in tech_lead, ops could approve',
    ]);
    const shared = 'roles:\n  a: { users: [U0ANN] }\n  b: { users: [U0ANN] }\n';
    expect(problemsOf(oneEnv('approvals: { required: 2, roles: [a, b] }', shared))).toEqual([
      'environments.0.approvals.required: 2 approvals can never be given: only 1 person in a, b could approve',
    ]);
  });

  it('distinct roles need a different person for each role', () => {
    // a and b can only be signed by Ann; c by Ann or Cid: at most two roles get different people.
    const roles = 'roles:\n  a: { users: [U0ANN] }\n  b: { users: [U0ANN] }\n  c: { users: [U0ANN, U0CID] }\n';
    expect(problemsOf(oneEnv('approvals: { required: 3, roles: [a, b, c], distinctRoles: true }', roles))).toEqual([
      'environments.0.approvals.required: 3 approvals can never be given: only 2 people in a, b, c could approve, one role each',
    ]);
    const enough = 'roles:\n  a: { users: [U0ANN, U0BEA] }\n  b: { users: [U0ANN] }\n  c: { users: [U0ANN, U0CID] }\n';
    expect(() => parseConfig(oneEnv('approvals: { required: 3, roles: [a, b, c], distinctRoles: true }', enough), 'ok.yml', {})).not.toThrow();
  });

  it('a role with Slack user groups may have anyone: only the role count is checked', () => {
    expect(() => parseConfig(oneEnv('approvals: { required: 5, roles: [ops, security] }'), 'ok.yml', {})).not.toThrow();
  });
});

describe('promotion', () => {
  const env = (name: string, requires?: string) => `  - name: ${name}\n${requires ? `    requires: { succeededOn: ${requires} }\n` : ''}    steps: [{ name: Build, run: [make] }]\n`;

  it('an environment that requires itself', () => {
    expect(problemsOf(`environments:\n${env('staging', 'staging')}`)).toEqual(['environments.0.requires.succeededOn: "staging" requires itself']);
  });

  it('two environments that require each other, and longer cycles', () => {
    expect(problemsOf(`environments:\n${env('staging', 'production')}${env('production', 'staging')}`)).toEqual([
      'environments.0.requires.succeededOn: promotion cycle staging -> production -> staging: no version could ever reach staging',
      'environments.1.requires.succeededOn: promotion cycle production -> staging -> production: no version could ever reach production',
    ]);
    expect(problemsOf(`environments:\n${env('dev')}${env('a', 'c')}${env('b', 'a')}${env('c', 'b')}${env('d', 'a')}`)).toHaveLength(3);
  });

  it('a chain that ends is fine', () => {
    expect(() => parseConfig(`environments:\n${env('dev')}${env('staging', 'dev')}${env('production', 'staging')}`, 'ok.yml', {})).not.toThrow();
  });
});

describe('defaultRef', () => {
  it('must pass the rules a typed ref passes', () => {
    expect(problemsOf(oneEnv('defaultRef: "-rf"'))).toEqual(['environments.0.defaultRef: "-rf" starts with "-" (it could be read as an option)']);
    expect(problemsOf(oneEnv('defaultRef: "release/.next"'))).toEqual(['environments.0.defaultRef: "release/.next" is not a tag, branch or commit sha (its part ".next" starts with ".")']);
    expect(problemsOf(oneEnv('defaultRef: "main; rm -rf /"'))[0]).toMatch(/^environments\.0\.defaultRef: .* contains characters not allowed in a git ref/);
  });
});

describe('durations', () => {
  it('a step timeout a timer cannot hold (30d overflows setTimeout) is too long', () => {
    const text = `environments:\n  - name: dev\n    steps: [{ name: Wait, run: [sleep, '3'], timeout: 30d }]\n`;
    expect(problemsOf(text)).toEqual(['environments.0.steps.0.timeout: 30 days is too long: use at most 1 day']);
  });

  it('a timeout of 0.0001 seconds is too short', () => {
    const text = `environments:\n  - name: dev\n    steps: [{ name: Wait, run: [sleep, '3'], timeout: 0.0001 }]\n`;
    expect(problemsOf(text)).toEqual(['environments.0.steps.0.timeout: 0 ms is too short: use at least 1 second']);
  });

  it('every duration has bounds: checks, HTTP timeouts and retry delays, approval expiry', () => {
    const text = `${ROLES}environments:
  - name: dev
    checklist:
      - section: CI
        items:
          - { id: tests, text: Tests pass, check: { run: [make, test], timeout: 2d } }
          - { id: site, text: Site answers, check: { http: "https://example.com", timeout: 0.01 } }
    approvals: { required: 1, roles: [ops], expiresAfter: 8d }
    steps:
      - name: Smoke
        http: { url: "https://example.com", timeout: 2h, retries: 3, retryDelay: 0.05 }
`;
    expect(problemsOf(text)).toEqual([
      'environments.0.checklist.0.items.0.check.timeout: 2 days is too long: use at most 1 day',
      'environments.0.checklist.0.items.1.check.timeout: 10 ms is too short: use at least 100 ms',
      'environments.0.approvals.expiresAfter: 8 days is too long: use at most 7 days',
      'environments.0.steps.0.http.retryDelay: 50 ms is too short: use at least 100 ms',
      'environments.0.steps.0.http.timeout: 2 hours is too long: use at most 1 hour',
    ]);
  });

  it('the bounds themselves are allowed (24h for a step)', () => {
    const text = `environments:\n  - name: dev\n    steps: [{ name: Wait, run: [sleep, '3'], timeout: 24h }]\n`;
    const step = parseConfig(text, 'ok.yml', {}).environments[0]?.steps[0];
    expect(step && 'run' in step ? step.timeout : 0).toBe(86_400_000);
  });
});
