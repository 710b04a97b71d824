// A worker that dies while following a workflow run: the next worker re-attaches to the stored run id and follows
// it to the end; the workflow is never dispatched twice. Real worker processes (src/main.ts), killed with SIGKILL.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allText, deployIdFrom, eventually, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { standinSettings, startGithubStandin, type GithubStandin } from '../helpers/github-standin.js';
import { spawnWorker, writeConfig, type WorkerProcess } from '../helpers/worker-process.js';

const YAML = `
repository: acme/shop
environments:
  - name: staging
    steps:
      - name: Ship
        workflow: { file: deploy.yml, ref: main, inputs: { version: '{{version}}' } }
`;

let redisUrl: string;
let gh: GithubStandin;
let app: TestBot;
const workers: WorkerProcess[] = [];

function startWorker(): WorkerProcess {
  const w = spawnWorker({
    configFile: writeConfig(YAML), redisUrl, prefix: app.prefix, slackApiUrl: app.slack.url,
    env: { GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url, SHIPMATE_GITHUB_POLL_MS: '50' },
  });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  redisUrl = (await startRedis()).url;
  gh = await startGithubStandin();
  app = await startTestBot({ configYaml: YAML, redisUrl, role: 'app', github: standinSettings(gh) });
});
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await app?.stop();
  await gh?.stop();
  await stopRedis();
});

it('a restarted worker re-attaches to the stored run and never dispatches twice', async () => {
  gh.tags.set('v3.0.0', gh.commit('main', 'feat: slow rollout'));
  gh.plans.set('deploy.yml', { conclusion: 'success', polls: 1_000_000 });
  const first = startWorker();
  const id = deployIdFrom(String((await app.command('/deploy', 'staging v3.0.0', 'U0ALICE')).json.text));
  const stored = await eventually(async () => (await app.shipmate.deps.store.get(id))?.steps[0]?.workflowRun?.runId, 20_000, 'the run id to be stored');
  await eventually(() => (gh.runs[0]?.reads ?? 0) >= 2, 10_000, 'the first worker to follow the run');
  first.child.kill('SIGKILL');
  await first.exited;

  const run = gh.runs[0];
  if (!run) throw new Error('no run');
  run.plan = { ...run.plan, polls: run.reads + 3 }; // the run finishes a few polls from now
  startWorker();
  const done = await waitForEnd(app, id, 30_000);
  expect(done.status).toBe('succeeded');
  expect(done.runs).toBeGreaterThanOrEqual(2);
  expect(done.steps[0]?.workflowRun?.runId).toBe(stored);
  expect(gh.calls.filter((c) => c.method === 'post' && c.path.endsWith('/dispatches'))).toHaveLength(1);
  expect(gh.runs).toHaveLength(1);
  await eventually(() => app.slack.messages().map(allText).join('\n').includes(`re-attached to run ${stored}`), 5_000, 'the thread to say it re-attached');
  expect(gh.problems).toEqual([]);
}, 60_000);
