// The GitHub stand-in answers as GitHub's published REST description says (so tests against it mean something),
// and the client retries through outages and rate limits, then reports them plainly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubClient, describeGithubError, type GithubClient } from '../../src/github/client.js';
import { createLogger } from '../../src/core/logger.js';
import { standinSettings, startGithubStandin, validateAgainstSpec, type GithubStandin } from '../helpers/github-standin.js';

let gh: GithubStandin;
let client: GithubClient;

beforeAll(async () => {
  gh = await startGithubStandin();
  client = createGithubClient(standinSettings(gh), `${gh.owner}/${gh.repo}`, createLogger({ level: 'silent' })) as GithubClient;
});
afterAll(() => gh.stop());

describe('GitHub stand-in', () => {
  it('validation catches an answer that does not follow the description', () => {
    expect(validateAgainstSpec('/repos/{owner}/{repo}/actions/runs/{run_id}', 'get', 200, { id: 'not a number' })).not.toEqual([]);
  });

  it('answers every endpoint Shipmate uses with bodies that follow the description', async () => {
    const { octokit, owner, repo } = client;
    const first = gh.commit('main', 'feat: first');
    const sha = gh.commit('main', 'fix: second');
    gh.tags.set('v1.0.0', first);
    gh.statuses.set(sha, [{ context: 'ci', state: 'success' }]);
    gh.checkRuns.set(sha, [{ name: 'test', status: 'completed', conclusion: 'success' }]);
    gh.pulls.push({ number: 7, headSha: sha, reviews: [{ user: 'bob', state: 'APPROVED' }] });
    gh.plans.set('deploy.yml', { conclusion: 'failure', polls: 0, failedJob: { name: 'ship', log: 'line 1\nboom' } });
    expect((await octokit.repos.getCommit({ owner, repo, ref: 'main' })).data.sha).toBe(sha);
    expect((await octokit.repos.listTags({ owner, repo })).data[0]?.name).toBe('v1.0.0');
    expect((await octokit.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${first}...${sha}` })).data.ahead_by).toBe(1);
    const d = await octokit.repos.createDeployment({ owner, repo, ref: sha, environment: 'dev', auto_merge: false, required_contexts: [], payload: { deployId: '1' } });
    expect(d.status).toBe(201);
    await octokit.repos.createDeploymentStatus({ owner, repo, deployment_id: (d.data as { id: number }).id, state: 'success' });
    expect((await octokit.repos.listDeployments({ owner, repo, sha })).data).toHaveLength(1);
    await octokit.actions.createWorkflowDispatch({ owner, repo, workflow_id: 'deploy.yml', ref: 'main', inputs: { version: 'x' } });
    const runs = await octokit.actions.listWorkflowRuns({ owner, repo, workflow_id: 'deploy.yml', event: 'workflow_dispatch' });
    const runId = runs.data.workflow_runs[0]?.id ?? 0;
    expect((await octokit.actions.getWorkflowRun({ owner, repo, run_id: runId })).data.conclusion).toBe('failure');
    const jobs = await octokit.actions.listJobsForWorkflowRun({ owner, repo, run_id: runId });
    const failed = jobs.data.jobs.find((j) => j.conclusion === 'failure');
    expect(failed?.name).toBe('ship');
    const log = await octokit.actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: failed?.id ?? 0 });
    expect(String(log.data)).toContain('boom');
    expect((await octokit.repos.getCombinedStatusForRef({ owner, repo, ref: sha })).data.state).toBe('success');
    expect((await octokit.checks.listForRef({ owner, repo, ref: sha })).data.check_runs[0]?.conclusion).toBe('success');
    expect((await octokit.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: sha })).data[0]?.number).toBe(7);
    expect((await octokit.pulls.listReviews({ owner, repo, pull_number: 7 })).data[0]?.state).toBe('APPROVED');
    expect(gh.problems).toEqual([]);
  });

  it('an outage is retried, then reported', async () => {
    gh.commit('main', 'chore: x');
    gh.fault = { mode: 'down', times: 2 };
    await expect(client.octokit.repos.getCommit({ owner: gh.owner, repo: gh.repo, ref: 'main' })).resolves.toBeTruthy();
    gh.fault = { mode: 'down' };
    const before = gh.calls.length;
    const err = await client.octokit.repos.getCommit({ owner: gh.owner, repo: gh.repo, ref: 'main' }).catch((e: unknown) => e);
    gh.fault = undefined;
    expect(gh.calls.length - before).toBe(4); // first try + 3 retries
    expect(describeGithubError(err)).toMatch(/GitHub is not answering properly \(HTTP 500/);
  });

  it('rate limits are waited out, then reported', async () => {
    gh.fault = { mode: 'rate-limited', times: 1 };
    await expect(client.octokit.repos.getCommit({ owner: gh.owner, repo: gh.repo, ref: 'main' })).resolves.toBeTruthy();
    gh.fault = { mode: 'secondary', times: 1 };
    await expect(client.octokit.repos.getCommit({ owner: gh.owner, repo: gh.repo, ref: 'main' })).resolves.toBeTruthy();
    gh.fault = { mode: 'rate-limited' };
    const before = gh.calls.length;
    const err = await client.octokit.repos.getCommit({ owner: gh.owner, repo: gh.repo, ref: 'main' }).catch((e: unknown) => e);
    gh.fault = undefined;
    expect(gh.calls.length - before).toBe(3); // first try + 2 waits
    expect(describeGithubError(err)).toMatch(/GitHub rate limit reached/);
  });

  it('no token, no client', () => {
    expect(createGithubClient({ apiUrl: gh.url }, 'acme/shop', createLogger({ level: 'silent' }))).toBeUndefined();
  });
});
