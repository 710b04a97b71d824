// Checklist items ticked from GitHub for the deploy's commit: its combined status and check runs (all green, or
// the named ones) and its pull request's reviews (approved; code owners approved). The reason names the evidence.
import type { CheckConfig } from '../core/config.js';
import { describeGithubError, GITHUB_OFF, type GithubClient } from './client.js';

export type GithubCheckSpec = Extract<CheckConfig, { github: unknown }>['github'];

export interface GithubCheckResult {
  ok: boolean;
  reason: string;
}

export async function githubCheck(github: GithubClient | undefined, spec: GithubCheckSpec, ref: string): Promise<GithubCheckResult> {
  if (!github) return { ok: false, reason: GITHUB_OFF };
  const { octokit, owner, repo } = github;
  const html = (path: string) => `https://github.com/${owner}/${repo}/${path}`;
  try {
    const sha = (await octokit.repos.getCommit({ owner, repo, ref })).data.sha;
    const short = sha.slice(0, 7);
    const reasons: string[] = [];
    if (spec.statuses) {
      const [combined, checks] = await Promise.all([
        octokit.repos.getCombinedStatusForRef({ owner, repo, ref: sha, per_page: 100 }),
        octokit.checks.listForRef({ owner, repo, ref: sha, per_page: 100, filter: 'latest' }),
      ]);
      // One list of (name, state): commit statuses and check runs are both "checks" to the people reading this.
      const results = [
        ...combined.data.statuses.map((st) => ({ name: st.context, state: st.state === 'success' ? 'success' : st.state === 'pending' ? 'pending' : 'failure' })),
        ...checks.data.check_runs.map((c) => ({ name: c.name, state: c.status !== 'completed' ? 'pending' : c.conclusion === 'success' || c.conclusion === 'neutral' || c.conclusion === 'skipped' ? 'success' : 'failure' })),
      ];
      const wanted = spec.statuses === 'all' ? results : spec.statuses.map((name) => results.find((r) => r.name === name) ?? { name, state: 'missing' });
      const bad = wanted.filter((r) => r.state !== 'success');
      if (spec.statuses === 'all' && results.length === 0) return { ok: false, reason: `no statuses or checks reported for ${short} yet (${html(`commit/${sha}`)})` };
      if (bad.length) return { ok: false, reason: `${bad.map((r) => `${r.name}: ${r.state}`).join(', ')} on ${short} (${html(`commit/${sha}`)})` };
      reasons.push(`${wanted.length} check${wanted.length === 1 ? '' : 's'} green on ${short} (${html(`commit/${sha}/checks`)})`);
    }
    if (spec.reviews) {
      const { data: pulls } = await octokit.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: sha });
      const pr = pulls[0];
      if (!pr) return { ok: false, reason: `no pull request contains ${short}, so there are no reviews to go by` };
      const { data: reviews } = await octokit.pulls.listReviews({ owner, repo, pull_number: pr.number, per_page: 100 });
      // A reviewer's latest decisive review counts (a later "changes requested" withdraws an approval).
      const latest = new Map<string, { state: string }>();
      for (const r of reviews) if (r.user && (r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED' || r.state === 'DISMISSED')) latest.set(r.user.login, { state: r.state });
      const approvers = [...latest].filter(([, r]) => r.state === 'APPROVED').map(([login]) => login);
      const blockers = [...latest].filter(([, r]) => r.state === 'CHANGES_REQUESTED').map(([login]) => login);
      if (blockers.length) return { ok: false, reason: `changes requested by ${blockers.join(', ')} on #${pr.number} (${pr.html_url})` };
      if (!approvers.length) return { ok: false, reason: `#${pr.number} has no approving review (${pr.html_url})` };
      if (spec.reviews === 'codeOwners') {
        // REST has no review decision; GraphQL's reviewDecision is APPROVED only once the branch's required reviews,
        // code owners' included where branch protection asks for them, are in.
        const q = await octokit.graphql<{ repository: { pullRequest: { reviewDecision: string | null } | null } }>(
          'query($owner: String!, $repo: String!, $number: Int!) { repository(owner: $owner, name: $repo) { pullRequest(number: $number) { reviewDecision } } }',
          { owner, repo, number: pr.number },
        );
        const decision = q.repository.pullRequest?.reviewDecision ?? null;
        if (decision !== 'APPROVED') return { ok: false, reason: decision === null ? `#${pr.number}'s branch requires no reviews, so GitHub gives no code-owner decision (${pr.html_url})` : `#${pr.number}'s review decision is ${decision.toLowerCase().replace(/_/g, ' ')} (${pr.html_url})` };
        reasons.push(`#${pr.number} approved by its required reviewers, code owners included (${approvers.join(', ')}; ${pr.html_url})`);
      } else reasons.push(`#${pr.number} approved by ${approvers.join(', ')} (${pr.html_url})`);
    }
    return { ok: true, reason: reasons.join('; ') };
  } catch (err) {
    return { ok: false, reason: describeGithubError(err) };
  }
}
