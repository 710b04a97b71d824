// Resilience rows: fast-check command texts for /deploy, /deploys and /rollback, and refs for /deploy, sent to
// one running bot. Every case is answered within 3 s with a clear private reply (never the "something went
// wrong" one), nothing crashes or goes unhandled, a request that creates a deploy says so, and bad input
// (unknown environment or option, too many words, a ref git would refuse, a user without the role) never
// creates or enqueues anything. Refs: whatever Shipmate accepts, `git check-ref-format` accepts too.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { refProblem } from '../../src/core/refs.js';
import { startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';
import { FuzzDriver, INTERNAL_ERROR, commandRequest, short, type Outcome } from './fuzz-bot.js';
import { ROWS, Tally, lostMessage } from './table.js';

const SEED = Number(process.env.RESILIENCE_SEED ?? 8);
const CASES = 2000;
const quick = `steps:\n      - { name: Deploy, run: [node, -e, "console.log('up')"] }`;
const YAML = `
roles:
  engineers: { users: [U0DEV] }
  tech_lead: { users: [U0LEAD] }
  security: { users: [U0SEC] }
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    aliases: [stage]
    ${quick}
  - name: production
    aliases: [prod]
    deployers: [engineers]
    requires: { succeededOn: staging }
    approvals: { required: 1, roles: [tech_lead, security], sensitiveRequires: [security] }
    ${quick}
  - name: dev
    ${quick}
`;
const ENVS: Record<string, { deployers: boolean; defaultRef: string }> = {
  staging: { deployers: false, defaultRef: 'main' }, stage: { deployers: false, defaultRef: 'main' },
  production: { deployers: true, defaultRef: 'main' }, prod: { deployers: true, defaultRef: 'main' }, dev: { deployers: false, defaultRef: 'main' },
};
const GOOD_VERSIONS = ['v1.0.0', 'v1.1.0'];

let bot: TestBot;
let driver: FuzzDriver;

beforeAll(async () => {
  bot = await startTestBot({ configYaml: YAML, redisUrl: (await startRedis()).url, role: 'app' });
  driver = new FuzzDriver(bot);
  // A little history, so that promotions and rollbacks can succeed too.
  const { store } = bot.shipmate.deps;
  for (const [i, version] of GOOD_VERSIONS.entries()) {
    for (const env of ['staging', 'production']) {
      await store.markSucceeded(env, version, i);
      await store.setEnvState({ env, version, ref: version, deployId: `0${i}`, deployedBy: 'U0DEV', at: i });
    }
  }
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
});

const gitVerdicts = new Map<string, boolean>();
/** Whether git would take `ref` as a branch or tag name. */
function gitAccepts(ref: string): boolean {
  let ok = gitVerdicts.get(ref);
  if (ok === undefined) {
    ok = !ref.includes('\0') && spawnSync('git', ['check-ref-format', `refs/heads/${ref}`]).status === 0;
    gitVerdicts.set(ref, ok);
  }
  return ok;
}

const refSegment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,7}$/) },
  { weight: 3, arbitrary: fc.constantFrom('.', '..', '.lock', 'a.lock', '.b', 'b.', '@{1}', '@', '{', 'v1.0.0', 'main', 'release', 'HEAD', '-x', 'x-', '~1', '^', ':', '?', '*', '[', '\\', ' ', '\u007f', 'é', '😀', 'a b', '', '$(id)', '`id`', ';', '&&', '|', "'", '"', '%2e') },
);
const ref = fc.oneof(
  { weight: 6, arbitrary: fc.array(refSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')) },
  { weight: 2, arbitrary: fc.constantFrom('a/.b', 'a/b.lock/c', 'a//b', '/a', 'a/', 'a.', '-rf', '--upload-pack=x', 'x'.repeat(201), 'deadbeef', 'e83c5163316f89bfbde7d9ab23ca2e25604af290', ...GOOD_VERSIONS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }) },
);
const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.keys(ENVS), 'PROD', 'Staging', 'prodution', 'stagin', 'qa', 'production;', 'st@ging', 'constructor', '__proto__') },
  { weight: 3, arbitrary: ref },
  { weight: 2, arbitrary: fc.constantFrom('--dry-run', '--sensitive', '--force', '-rf', '--', '—dry-run', '--dry-run=1', '--DRY-RUN') },
  { weight: 1, arbitrary: fc.constantFrom('`id`', '$(whoami)', '; rm -rf /', '<@U0BOB>', '<!channel>', '*bold*', '\u0000', '\u202e', 'a'.repeat(3000), '%', '&text=x') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
);
const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', ' \u00a0 ', '\u3000');
const text = fc.array(fc.tuple(word, separator), { maxLength: 5 }).chain((parts) => fc.constantFrom('', ' ').map((lead) => lead + parts.map(([w, s]) => w + s).join('')));
const user = fc.constantFrom('U0DEV', 'U0DEV', 'U0LEAD', 'U0NOBODY');

/** Why a request that created a deploy should not have (bad input), if it should not. */
function shouldNotCreate(command: string, typed: string, who: string): string | undefined {
  const tokens = typed.trim().split(/\s+/).filter(Boolean);
  const flags = tokens.filter((t) => t.startsWith('--'));
  const words = tokens.filter((t) => !t.startsWith('--'));
  if (command === '/deploys') return '/deploys never creates a deploy';
  if (command === '/deploy' && flags.some((f) => f !== '--dry-run' && f !== '--sensitive')) return 'unknown option';
  if (command === '/deploy' && flags.includes('--dry-run')) return 'a dry run';
  if (command === '/rollback' && flags.length) return 'options on /rollback';
  if (words.length < 1 || words.length > 2) return `${words.length} words`;
  const env = ENVS[(words[0] ?? '').toLowerCase()];
  if (!env) return 'unknown environment';
  if (env.deployers && who !== 'U0DEV') return 'user without the role';
  const r = words[1] ?? (command === '/deploy' ? env.defaultRef : undefined);
  if (r !== undefined && !gitAccepts(r)) return `ref ${short(r, 40)} git refuses`;
  if (command === '/rollback' && words[1] && !GOOD_VERSIONS.includes(words[1])) return 'not a known good version';
  return undefined;
}

/** What every case must satisfy, whatever it asked. */
function replyProblems(o: Outcome): Array<string | false> {
  const text = String(o.reply?.text ?? '');
  return [
    !o.acked && `not acknowledged${o.status ? ` (HTTP ${o.status})` : ''}`,
    o.acked && o.ackMs >= 3000 && `acknowledged after ${Math.round(o.ackMs)} ms`,
    o.acked && o.reply?.response_type !== 'ephemeral' && `reply is ${o.reply?.response_type ?? 'missing'}, not private`,
    o.acked && !text.trim() && 'empty reply',
    INTERNAL_ERROR.test(text) && 'internal error reply',
    ...o.errors,
    o.created.length > 1 && `${o.created.length} deploys created`,
    o.created.length === 1 && !text.includes(`#${o.created[0]}`) && `created deploy #${o.created[0]} without saying so: ${short(text, 80)}`,
    o.created.length === 1 && /^:(warning|no_entry|x):/.test(text) && `created deploy #${o.created[0]} but replied with a refusal`,
    o.jobsAdded > o.created.length && `${o.jobsAdded} jobs for ${o.created.length} deploys`,
  ];
}

it(ROWS.fuzzCommands, async ({ task }) => {
  const tally = new Tally('fuzzCommands');
  const cases = fc.sample(fc.tuple(fc.constantFrom('/deploy', '/deploy', '/deploys', '/rollback'), text, user), { seed: SEED, numRuns: CASES });
  let created = 0;
  for (const [i, [command, typed, who]] of cases.entries()) {
    const { form, parsed } = commandRequest(bot, command, typed, who);
    const o = await driver.send(form, parsed, i % 10 === 0 ? 'http' : 'bolt');
    const wrong = o.created.length > 0 ? shouldNotCreate(command, typed, who) : undefined;
    tally.check(`${o.via} ${command} ${short(typed, 80)} by ${who}`, [...replyProblems(o), wrong && `created a deploy for bad input (${wrong})`, !o.created.length && o.jobsAdded > 0 && 'enqueued without a deploy']);
    created += o.created.length;
    await driver.clear(o.created);
  }
  const row = tally.record(task, `${CASES} texts, ${CASES / 10} via HTTP, ${created} created a deploy; seed ${SEED}`);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 180_000);

it(ROWS.fuzzRefs, async ({ task }) => {
  const tally = new Tally('fuzzRefs');
  const cases = fc.sample(fc.tuple(ref, fc.constantFrom('staging', 'dev', 'prod')), { seed: SEED + 1, numRuns: CASES });
  let accepted = 0;
  for (const [i, [r, env]] of cases.entries()) {
    let problem: string | undefined;
    let threw: string | undefined;
    try {
      problem = refProblem(r);
    } catch (err) {
      threw = (err as Error).message;
    }
    if (problem === undefined && !threw) accepted += 1;
    const direct = [threw && `refProblem threw: ${threw}`, !threw && problem === undefined && !gitAccepts(r) && 'accepted a ref git refuses'];
    // Every ref is judged directly; one in five also goes through the bot as `/deploy <env> <ref>`.
    if (i % 5 !== 0) {
      tally.check(`refProblem ${short(r, 60)}`, direct);
      continue;
    }
    const typed = `${env} ${r}`;
    const { form, parsed } = commandRequest(bot, '/deploy', typed, 'U0DEV');
    const o = await driver.send(form, parsed, i % 10 === 0 ? 'http' : 'bolt');
    // A ref with whitespace in it is several words to /deploy; only one-word refs are judged by refProblem.
    const oneWord = r.trim().split(/\s+/).filter(Boolean).length === 1 && r.trim() === r;
    const bad = o.created.length > 0 ? shouldNotCreate('/deploy', typed, 'U0DEV') : undefined;
    tally.check(`${o.via} /deploy ${env} ${short(r, 60)}`, [
      ...direct,
      ...replyProblems(o),
      bad && `created a deploy for bad input (${bad})`,
      o.created.length > 0 && oneWord && problem !== undefined && `created a deploy for a ref it calls bad (${problem})`,
    ]);
    await driver.clear(o.created);
  }
  const row = tally.record(task, `${CASES} refs checked against git check-ref-format, ${accepted} accepted, ${CASES / 5} sent as /deploy (${CASES / 10} via HTTP); seed ${SEED + 1}`);
  expect(row.lost, lostMessage(row)).toBe(0);
}, 180_000);
