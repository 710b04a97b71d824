// Mirrors deploys as GitHub Deployments for environments with `githubDeployment`: one Deployment per deploy
// (the commit, auto_merge off, the configured required contexts, the deploy id in its payload), its status
// kept in step (queued, in_progress, success, failure, error) and the deploy it replaces marked inactive.
// A GitHub failure never fails or holds a deploy: it is logged and noted on the record.
import type { Config, EnvironmentConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { DeployRecord, DeployStore } from '../deploys/deploy-store.js';
import { describeGithubError, type GithubClient } from './client.js';

type State = 'queued' | 'in_progress' | 'success' | 'failure' | 'error';
const RANK: Record<State, number> = { queued: 0, in_progress: 1, success: 2, failure: 2, error: 2 };

/** The commit a deploy put out: its resolved SHA once records carry one, else the ref it was asked for. */
function deployedCommit(record: DeployRecord): string {
  const sha = (record as DeployRecord & { sha?: unknown }).sha;
  return typeof sha === 'string' && sha ? sha : record.ref;
}

export class GithubDeployments {
  /** Each deploy's updates from this process, in the order they happened (they run in the background). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly d: { github?: GithubClient; store: DeployStore; config: Config; log: Logger }) {}

  private settings(record: DeployRecord): { env: EnvironmentConfig; requiredContexts: string[]; environment: string } | undefined {
    const env = this.d.config.environments.find((e) => e.name === record.env);
    // A migration changes the database, not the deployed commit: no GitHub Deployment for it.
    if (!env?.githubDeployment || !this.d.github || record.kind === 'migrate') return undefined;
    return { env, requiredContexts: env.githubDeployment.requiredContexts, environment: env.githubDeployment.environment ?? env.name };
  }

  /** The deploy was queued (it waits for a worker). */
  queued(id: string): Promise<void> {
    return this.inOrder(id, () => this.advance(id, 'queued'));
  }

  /** A worker started it; `replaces` is the deploy the environment ran until now. */
  started(id: string, replaces: string | undefined): Promise<void> {
    return this.inOrder(id, () => this.advance(id, 'in_progress', replaces));
  }

  private inOrder(id: string, fn: () => Promise<void>): Promise<void> {
    // Never rejects: callers fire and forget, and a Redis read timing out (the request connection fails fast)
    // must not become an unhandled rejection that stops the process.
    const next = (this.chains.get(id) ?? Promise.resolve()).then(fn).catch((err: unknown) => {
      this.d.log.warn({ deployId: id, err: (err as Error).message }, 'GitHub deployment not updated');
    });
    this.chains.set(id, next);
    void next.finally(() => this.chains.get(id) === next && this.chains.delete(id));
    return next;
  }

  /** It ended: success makes the replaced deploy's Deployment inactive. */
  async finished(record: DeployRecord): Promise<void> {
    const state: State | undefined = record.status === 'succeeded' ? 'success' : record.status === 'failed' ? 'failure' : record.status === 'cancelled' || record.status === 'interrupted' ? 'error' : undefined;
    if (!state) return;
    await this.inOrder(record.id, () => this.advance(record.id, state));
  }

  /** Creates the Deployment once and moves its status forward (never back: a late "queued" after "in_progress" is dropped). */
  private async advance(id: string, state: State, replaces?: string): Promise<void> {
    const github = this.d.github;
    const first = await this.d.store.get(id);
    if (!first || !github || !this.settings(first)) return;
    // Noted first, so the replaced deploy's Deployment is made inactive even if this status cannot be posted.
    if (replaces) await this.d.store.update(id, (r) => void (r.github = { ...r.github, replaces })).catch(() => undefined);
    try {
      // One writer at a time per deploy: the request's "queued" and the worker's "in_progress" may overlap.
      await this.d.store.withLock(`github-deployment:${id}`, 30_000, async () => {
        const record = await this.d.store.get(id);
        const settings = record && this.settings(record);
        if (!record || !settings) return;
        const posted = record.github?.state;
        if (posted && RANK[posted] >= RANK[state]) return;
        const deploymentId = record.github?.deploymentId ?? (await this.create(github, record, settings));
        const { octokit, owner, repo } = github;
        await octokit.repos.createDeploymentStatus({
          owner, repo, deployment_id: deploymentId, state, environment: settings.environment, auto_inactive: true,
          description: `Shipmate deploy #${record.id}: ${state.replace('_', ' ')}`.slice(0, 140),
        });
        await this.d.store.update(id, (r) => {
          r.github = { ...r.github, deploymentId, state };
        });
        if (state === 'success') await this.inactivate(github, record.github?.replaces, settings.environment);
      });
    } catch (err) {
      const reason = describeGithubError(err);
      this.d.log.warn({ deployId: id, state, err: reason }, 'github deployment status not updated');
      await this.d.store.update(id, (r) => void r.notes.push(`GitHub deployment not updated (${state}): ${reason}`)).catch(() => undefined);
    }
  }

  /** Finds the Deployment an earlier attempt created (by the deploy id in its payload), or creates it. */
  private async create(github: GithubClient, record: DeployRecord, settings: { requiredContexts: string[]; environment: string }): Promise<number> {
    const { octokit, owner, repo } = github;
    const sha = deployedCommit(record);
    const { data: existing } = await octokit.repos.listDeployments({ owner, repo, sha, environment: settings.environment, per_page: 100 });
    const found = existing.find((dep) => {
      const payload = typeof dep.payload === 'string' ? safeJson(dep.payload) : dep.payload;
      return (payload as { shipmateDeployId?: unknown } | undefined)?.shipmateDeployId === record.id;
    });
    if (found) return found.id;
    const res = await octokit.repos.createDeployment({
      owner, repo, ref: sha, environment: settings.environment, auto_merge: false, required_contexts: settings.requiredContexts,
      payload: { shipmateDeployId: record.id, requestedBy: record.requestedBy, version: record.version }, description: `Shipmate deploy #${record.id} of ${record.version}`,
    });
    if (res.status !== 201 || !('id' in res.data)) throw new Error(`GitHub did not create the deployment: ${JSON.stringify(res.data).slice(0, 200)}`);
    const deploymentId = res.data.id;
    // Stored at once: a retry of the status post below finds it here, not by another create.
    await this.d.store.update(record.id, (r) => void (r.github = { ...r.github, deploymentId }));
    return deploymentId;
  }

  private async inactivate(github: GithubClient, previousId: string | undefined, environment: string): Promise<void> {
    const previous = previousId ? await this.d.store.get(previousId) : undefined;
    const deploymentId = previous?.github?.deploymentId;
    if (!deploymentId) return;
    const { octokit, owner, repo } = github;
    await octokit.repos.createDeploymentStatus({ owner, repo, deployment_id: deploymentId, state: 'inactive', environment, description: 'replaced by a newer deploy' });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
