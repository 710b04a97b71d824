// Resilience row: config files from fast-check — shaped like shipmate.yml, with wrong types, missing and
// extra fields, hostile names (constructor, __proto__), impossible rules and broken YAML mixed in. parseConfig
// must return a config or throw ConfigError, never anything else; and a config it returns must be one that
// can work: every role it names is defined, approvals can be met, promotion rules have no cycle, the default
// ref is a ref, and every duration fits a timer (1 ms to 2^31-1 ms).
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, parseConfig, type Config } from '../../src/core/config.js';
import { refProblem } from '../../src/core/refs.js';
import { ROWS, Tally, lostMessage } from './table.js';

const SEED = Number(process.env.RESILIENCE_SEED ?? 8);
const CASES = 3000;
const MAX_TIMER_MS = 2 ** 31 - 1;

const ROLE_NAMES = ['engineers', 'tech_lead', 'security', 'product'];
const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ROLE_NAMES, 'dev', 'staging', 'production', 'prod', 'qa') },
  { weight: 2, arbitrary: fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'Bad Name', '', '1abc', 'a'.repeat(200)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const duration = fc.oneof(
  fc.constantFrom('30s', '10m', '2h', '7d', '24d', '25d', '30d', '1y', '0.0001', '1ms', '0', '-5s', 'abc', '1e3', ''),
  fc.double({ min: -10, max: 1e8, noNaN: true }),
  fc.integer({ min: -5, max: 3_000_000 }),
  fc.constantFrom(0.0001, 0.5, 1e-9, Number.MAX_SAFE_INTEGER),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
/** Sometimes anything at all instead of the right shape. */
const or = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: arb }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) });
const userId = fc.constantFrom('U0ALICE', 'U0BOB', 'W0CAROL', 'bob', 'S0GROUP', '');
const argv = fc.array(fc.oneof(fc.constantFrom('node', '-e', 'true', '{{version}}', '{{env}}', '{{bogus}}', '{{ user }}', '{{', '${HOME}', '$(id)'), fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), { maxLength: 4 });

const runStep = fc.record({ name: or(fc.constantFrom('Deploy', 'Migrate', '')), run: or(argv), timeout: maybe(duration), retrySafe: maybe(or(fc.boolean())), env: maybe(fc.dictionary(fc.constantFrom('A', 'B', '1X', 'PATH'), fc.constantFrom('x', '{{user}}', '{{nope}}'))) }, { requiredKeys: ['name', 'run'] });
const httpStep = fc.record({ name: fc.constantFrom('Health', ''), http: or(fc.record({ url: fc.constantFrom('https://example.com/health', '', '{{env}}.example.com', 'ftp://x'), retries: maybe(fc.integer({ min: -2, max: 200 })), retryDelay: maybe(duration), timeout: maybe(duration), expectStatus: maybe(fc.integer({ min: 0, max: 1000 })) }, { requiredKeys: ['url'] })) });
const checkItem = fc.record({ id: name, text: fc.constantFrom('Backups verified', ''), required: maybe(fc.boolean()), check: maybe(fc.oneof(fc.record({ run: argv, timeout: maybe(duration) }, { requiredKeys: ['run'] }), fc.record({ http: fc.constantFrom('https://ci.example.com/{{ref}}', ''), timeout: maybe(duration) }, { requiredKeys: ['http'] }))) }, { requiredKeys: ['id', 'text'] });
const approvals = fc.record({
  required: or(fc.integer({ min: -1, max: 6 })),
  roles: or(fc.array(name, { maxLength: 4 })),
  distinctRoles: maybe(fc.boolean()),
  allowRequester: maybe(fc.boolean()),
  requireRoles: maybe(fc.array(name, { maxLength: 2 })),
  sensitiveRequires: maybe(fc.array(name, { maxLength: 2 })),
  expiresAfter: maybe(duration),
  notify: maybe(fc.constantFrom('dm', 'group', 'none', 'email')),
}, { requiredKeys: ['required', 'roles'] });
const environment = fc.record({
  name,
  aliases: maybe(fc.array(name, { maxLength: 2 })),
  defaultRef: maybe(fc.constantFrom('main', 'v1.0.0', '-rf', '--upload-pack=x', 'a/.b', 'a/b.lock/c', 'a..b', '', 'HEAD', 'feature/x', '$(id)')),
  deployers: maybe(or(fc.array(name, { maxLength: 3 }))),
  requires: maybe(fc.record({ succeededOn: name })),
  checklist: maybe(fc.array(fc.record({ section: fc.constantFrom('Infra', ''), items: fc.array(checkItem, { maxLength: 3 }) }), { maxLength: 2 })),
  approvals: maybe(or(approvals)),
  postDeploySignoff: maybe(fc.record({ role: name, label: maybe(fc.string({ maxLength: 10 })) }, { requiredKeys: ['role'] })),
  steps: or(fc.array(fc.oneof(runStep, httpStep), { minLength: 0, maxLength: 3 })),
}, { requiredKeys: ['name', 'steps'] });
const config = fc.record({
  secrets: maybe(fc.array(fc.constantFrom('DEPLOY_TOKEN', 'lower', '1BAD', ''), { maxLength: 2 })),
  roles: maybe(or(fc.dictionary(name, fc.record({ label: maybe(fc.string({ maxLength: 10 })), users: maybe(fc.array(userId, { maxLength: 2 })), groups: maybe(fc.array(fc.constantFrom('S0DEVS', 'bad'), { maxLength: 1 })) }), { maxKeys: 4 }))),
  channels: maybe(fc.record({ deployLog: maybe(fc.constantFrom('C0LOG', 'general', '#log')), announcements: maybe(fc.constantFrom('C0ANN', '')) })),
  environments: or(fc.array(environment, { minLength: 0, maxLength: 4 })),
  extra: maybe(fc.anything({ maxDepth: 1 })),
});
/**
 * Configs that are valid but for a mistake or two, so that plenty of them load and the "can it work" checks
 * bite: risky durations, roles that are not defined (or are Object.prototype names), approvals that cannot be
 * met, promotion rules that require themselves or each other, default refs git would refuse.
 */
const ENV_NAMES = ['dev', 'staging', 'production'];
const roleRef = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ROLE_NAMES) }, { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', 'ops', '__proto__') });
const riskyDuration = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('30s', '10m', '2h', 90, '1d') }, { weight: 1, arbitrary: fc.constantFrom('30d', '25d', '0.0001', 0.0001, 0.0004, '1ms', '1y') });
const nearValid = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    roles: fc.constant(Object.fromEntries(ROLE_NAMES.map((r, i) => [r, { users: [`U0USER${i}`] }]))),
    environments: fc.tuple(...ENV_NAMES.slice(0, n).map((envName) =>
      fc.record({
        name: fc.constant(envName),
        defaultRef: maybe(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('main', 'v1.0.0', 'release/1.4') }, { weight: 1, arbitrary: fc.constantFrom('-rf', 'a/.b', 'a/b.lock/c', 'a..b', 'HEAD@{1}', 'x/') })),
        deployers: maybe(fc.array(roleRef, { maxLength: 2 })),
        requires: maybe(fc.record({ succeededOn: fc.constantFrom(...ENV_NAMES.slice(0, n)) })),
        approvals: maybe(fc.record({ required: fc.integer({ min: 1, max: 4 }), roles: fc.uniqueArray(roleRef, { minLength: 1, maxLength: 3 }), distinctRoles: fc.boolean(), expiresAfter: maybe(riskyDuration) })),
        steps: fc.array(fc.oneof(
          fc.record({ name: fc.constant('Deploy'), run: fc.constant(['node', '-e', 'true']), timeout: maybe(riskyDuration), retrySafe: maybe(fc.boolean()) }, { requiredKeys: ['name', 'run'] }),
          fc.record({ name: fc.constant('Health'), http: fc.record({ url: fc.constant('https://example.com/health'), timeout: maybe(riskyDuration), retryDelay: maybe(riskyDuration) }, { requiredKeys: ['url'] }) }),
        ), { minLength: 1, maxLength: 2 }),
      }, { requiredKeys: ['name', 'steps'] }))),
  }),
);

/** The file's text: the object as YAML, sometimes cut short or garbled, sometimes plain noise. */
const fileText = fc.oneof(
  { weight: 8, arbitrary: nearValid.map((c) => stringify(c)) },
  { weight: 6, arbitrary: config.map((c) => stringify(c)) },
  { weight: 2, arbitrary: fc.tuple(config, fc.nat()).map(([c, n]) => { const t = stringify(c); return t.slice(0, n % (t.length + 1)); }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom('', '---', '[]', 'null', '42', 'environments: !!binary aGVsbG8=', 'a: &a [*a]', 'environments:\n  - name: x\n    steps: ${MISSING}', '{{{{') },
);
/** Why a config that loaded could never work (empty when it can). */
export function unworkable(c: Config): string[] {
  const out: string[] = [];
  const defined = (role: string) => Object.hasOwn(c.roles, role);
  const byName = new Map(c.environments.map((e) => [e.name, e]));
  const timers: Array<[string, number | undefined]> = [];
  for (const env of c.environments) {
    const refs = [...env.deployers, ...(env.approvals ? [...env.approvals.roles, ...env.approvals.requireRoles, ...env.approvals.sensitiveRequires] : []), ...(env.postDeploySignoff ? [env.postDeploySignoff.role] : [])];
    for (const r of refs) if (!defined(r)) out.push(`${env.name}: role "${r}" is not defined`);
    const a = env.approvals;
    if (a?.distinctRoles && a.required > new Set(a.roles).size) out.push(`${env.name}: ${a.required} distinct approvals from ${new Set(a.roles).size} role(s)`);
    const seen = new Set<string>();
    for (let at = env; at.requires; ) {
      if (seen.has(at.name)) {
        out.push(`${env.name}: promotion rules go round in a circle`);
        break;
      }
      seen.add(at.name);
      const next = byName.get(at.requires.succeededOn);
      if (!next) break;
      at = next;
    }
    const problem = refProblem(env.defaultRef);
    if (problem) out.push(`${env.name}: defaultRef "${env.defaultRef}" ${problem}`);
    if (a?.expiresAfter !== undefined) timers.push([`${env.name}.approvals.expiresAfter`, a.expiresAfter]);
    env.steps.forEach((s, i) => {
      if ('run' in s) timers.push([`${env.name}.steps.${i}.timeout`, s.timeout]);
      else if ('http' in s) timers.push([`${env.name}.steps.${i}.http.timeout`, s.http.timeout], [`${env.name}.steps.${i}.http.retryDelay`, s.http.retryDelay]);
      else if ('workflow' in s) timers.push([`${env.name}.steps.${i}.timeout`, s.timeout]);
      else if ('canary' in s) timers.push([`${env.name}.steps.${i}.canary.interval`, s.canary.interval], ...s.canary.phases.flatMap((p, k): Array<[string, number]> => (p.hold ? [[`${env.name}.steps.${i}.canary.phases.${k}.hold`, p.hold]] : [])));
      else timers.push([`${env.name}.steps.${i}.monitor.interval`, s.monitor.interval], [`${env.name}.steps.${i}.monitor.duration`, s.monitor.duration]);
    });
    for (const section of env.checklist) for (const item of section.items) if (item.check && 'timeout' in item.check) timers.push([`${env.name}.checklist.${item.id}.timeout`, item.check.timeout]);
  }
  for (const [path, ms] of timers) {
    if (ms === undefined || !Number.isInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) out.push(`${path} is ${ms} ms, which no timer can wait`);
  }
  return out;
}

it(ROWS.fuzzConfig, ({ task }) => {
  const tally = new Tally('fuzzConfig');
  let loaded = 0;
  for (const text of fc.sample(fileText, { seed: SEED, numRuns: CASES })) {
    const short = JSON.stringify(text.length > 160 ? `${text.slice(0, 157)}…` : text);
    let parsed: Config | undefined;
    let thrown: unknown;
    try {
      parsed = parseConfig(text, 'fuzz.yml', {});
    } catch (err) {
      thrown = err;
    }
    if (parsed) loaded += 1;
    tally.check(short, [
      thrown !== undefined && !(thrown instanceof ConfigError) && `threw ${(thrown as Error)?.name ?? typeof thrown}: ${String((thrown as Error)?.message ?? thrown).slice(0, 120)}`,
      thrown instanceof ConfigError && thrown.problems.length === 0 && 'ConfigError without a reason',
      ...(parsed ? unworkable(parsed).map((p) => `loaded, but ${p}`) : []),
    ]);
  }
  const row = tally.record(task, `${CASES} files, ${loaded} loaded; seed ${SEED}`);
  expect(row.lost, lostMessage(row)).toBe(0);
});
