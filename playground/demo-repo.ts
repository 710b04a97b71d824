// The playground's demo repository: a real local git repository, made on first start, so a newcomer sees deploys
// as commits — SHAs, the commits going out, promotion by commit — without a repository of their own. Its history:
//
//   main:    chore: initial … ─ feat … (v1.0.0) ─ fix … (v1.0.1) ─ feat … ─ docs … (v1.1.0) ─ feat … ─ fix …
//   staging: = main                      broken: v1.1.0 + a commit whose tests fail (dev's demo failure)
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface DemoCommit {
  message: string;
  author: [name: string, email: string];
  file: string;
  tag?: string;
}

const ALEX: DemoCommit['author'] = ['Alex Morgan', 'alex@example.com'];
const TARA: DemoCommit['author'] = ['Tara Singh', 'tara@example.com'];
const SAM: DemoCommit['author'] = ['Sam Okafor', 'sam@example.com'];

const MAIN: DemoCommit[] = [
  { message: 'chore: initial commit', author: ALEX, file: 'README.md' },
  { message: 'feat: deploy pipeline runs steps in order', author: ALEX, file: 'src/pipeline.js', tag: 'v1.0.0' },
  { message: 'fix: retry the health check on 503', author: TARA, file: 'src/health.js', tag: 'v1.0.1' },
  { message: 'feat(gates): production checklist and sign-offs', author: TARA, file: 'src/gates.js' },
  { message: 'docs: rollback runbook', author: SAM, file: 'docs/rollback.md', tag: 'v1.1.0' },
  { message: 'feat: canary rollout at 5%, 25% and 100%', author: ALEX, file: 'src/canary.js' },
  { message: 'fix(api): return 404 for unknown flags', author: SAM, file: 'src/flags.js' },
];

const BROKEN: DemoCommit = { message: 'test: approvals expire after 24h (fails on purpose)', author: TARA, file: 'test/gates.test.js' };

/** Tags and branches the demo has (the playground's tour and its browser test use them). */
export const DEMO_TAGS = ['v1.0.0', 'v1.0.1', 'v1.1.0'] as const;
export const DEMO_BRANCHES = ['main', 'staging', 'broken'] as const;

/**
 * Makes the demo repository at `dir` unless one is there. Built beside it and renamed into place, so a start that
 * dies half-way leaves no half repository. Returns whether it was created now.
 */
export function ensureDemoRepo(dir: string, now = Date.now()): boolean {
  if (existsSync(join(dir, '.git'))) return false;
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.${randomUUID()}.tmp`;
  mkdirSync(tmp, { recursive: true });
  const git = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd: tmp, env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A day between commits, ending an hour ago: the history reads like a real one.
  let at = Math.floor(now / 1000) - 3600 - (MAIN.length + 1) * 86_400;
  const commit = (c: DemoCommit) => {
    at += 86_400;
    const path = join(tmp, c.file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `// ${c.message}\n`);
    git(['add', '--', c.file]);
    const [name, email] = c.author;
    const date = `${at} +0000`;
    git(['commit', '-q', '-m', c.message], { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    if (c.tag) git(['tag', '-a', c.tag, '-m', `Release ${c.tag}`], { GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email, GIT_COMMITTER_DATE: date });
  };
  try {
    git(['init', '-q']);
    for (const c of MAIN) {
      commit(c);
      if (c.tag === 'v1.1.0') git(['branch', 'broken']);
    }
    git(['branch', 'staging']);
    git(['checkout', '-q', 'broken']);
    commit(BROKEN);
    git(['checkout', '-q', 'main']);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another playground (a parallel test) made it first: theirs is the same demo.
      if (existsSync(join(dir, '.git'))) return false;
      throw err;
    }
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
