// POST /github/webhook: GitHub's push and workflow_run events start the deploys `autoDeploy` names (Ontos: dev on
// every merge to main; FlowSpark: staging once CI passed on the staging branch). Verified with X-Hub-Signature-256
// (@octokit/webhooks); a bad or missing signature gets 401 and does nothing. A redelivery (same X-GitHub-Delivery)
// is the same request to the deploy service, whose delivery key makes it have one effect.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import type { AutoDeployRule } from '../core/config.js';
import { LockedError } from '../deploys/locks.js';
import { findEnvironment } from '../deploys/environments.js';
import type { Deps } from '../deps.js';

const MAX_BODY = 25 * 1024 * 1024; // GitHub caps payloads at 25 MB

/** Who asked for a deploy GitHub started: shown as the GitHub login, not a Slack mention. */
export const githubRequester = (login: string) => `github:${login}`;

interface Trigger { rule: AutoDeployRule; index: number; sha: string; who: string; why: string }

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        fail(new Error('payload too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

/** The autoDeploy rules this event fires (pure). */
export function matchAutoDeploy(rules: readonly AutoDeployRule[], event: string, payload: Record<string, unknown>): Trigger[] {
  const out: Trigger[] = [];
  rules.forEach((rule, index) => {
    if (rule.on === 'push' && event === 'push') {
      const after = String(payload.after ?? '');
      if (payload.ref !== `refs/heads/${rule.branch}` || payload.deleted === true || !/^[0-9a-f]{40}$/.test(after) || /^0+$/.test(after)) return;
      const who = (payload.pusher as { name?: string } | undefined)?.name ?? (payload.sender as { login?: string } | undefined)?.login ?? 'someone';
      out.push({ rule, index, sha: after, who, why: `push to ${rule.branch}` });
    }
    if (rule.on === 'workflow_run' && event === 'workflow_run') {
      const run = payload.workflow_run as { name?: string; head_branch?: string; head_sha?: string; conclusion?: string; html_url?: string; actor?: { login?: string } } | undefined;
      if (payload.action !== 'completed' || !run || run.name !== rule.workflow || run.head_branch !== rule.branch || run.conclusion !== rule.conclusion || !run.head_sha) return;
      out.push({ rule, index, sha: run.head_sha, who: run.actor?.login ?? 'someone', why: `${rule.workflow} ${rule.conclusion} on ${rule.branch}${run.html_url ? ` (${run.html_url})` : ''}` });
    }
  });
  return out;
}

export function githubWebhookRoute(deps: Deps, secret: string | undefined) {
  const webhooks = secret ? new Webhooks({ secret }) : undefined;
  const log = deps.log.child({ component: 'github-webhook' });
  const reply = (res: ServerResponse, status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!webhooks) return reply(res, 503, { error: 'GitHub webhooks are off: set GITHUB_WEBHOOK_SECRET to the webhook\'s secret to turn them on.' });
    const body = await readBody(req);
    const signature = String(req.headers['x-hub-signature-256'] ?? '');
    const valid = signature ? await webhooks.verify(body, signature).catch(() => false) : false;
    if (!valid) {
      log.warn({ delivery: req.headers['x-github-delivery'] }, 'github webhook refused: bad or missing signature');
      return reply(res, 401, { error: 'bad signature' });
    }
    const event = String(req.headers['x-github-event'] ?? '');
    const delivery = String(req.headers['x-github-delivery'] ?? '');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return reply(res, 400, { error: 'the payload is not JSON' });
    }
    const results: Array<Record<string, unknown>> = [];
    for (const t of matchAutoDeploy(deps.config.autoDeploy, event, payload)) {
      const env = findEnvironment(deps.config, t.rule.environment);
      const channel = t.rule.channel ?? deps.config.channels.deployLog;
      if (!env || !channel) continue;
      let outcome;
      try {
        outcome = await deps.deploys.request({ env, ref: t.sha, user: githubRequester(t.who), channel, delivery: delivery ? `github:${delivery}:${t.index}` : undefined });
      } catch (err) {
        if (!(err instanceof LockedError)) throw err;
        // A locked environment is an answer, not a failure: the team hears why nothing started.
        log.info({ delivery, env: env.name }, 'github webhook: environment locked, no deploy');
        await deps.delivery.send({ key: `github:${delivery || t.sha}:${t.index}:locked`, channel, text: `:lock: GitHub (${t.why}, by ${t.who}) did not deploy \`${t.sha.slice(0, 7)}\`: ${err.message}` });
        results.push({ env: env.name, created: false, reason: 'locked' });
        continue;
      }
      if ('existing' in outcome && outcome.existing) {
        log.info({ delivery, deployId: outcome.existing.id, reason: outcome.reason }, 'github webhook: deploy already requested');
        results.push({ env: env.name, deployId: outcome.existing.id, created: false, reason: outcome.reason });
        continue;
      }
      const record = outcome.record;
      await deps.store.update(record.id, (r) => void r.notes.push(`started by GitHub: ${t.why}, by ${t.who}`));
      log.info({ delivery, deployId: record.id, env: env.name, sha: t.sha }, 'github webhook started a deploy');
      // The team is told where deploys are shown: the status (or gate) message in the channel.
      if (record.status === 'pending') await deps.messenger.syncGate(record.id);
      else await deps.messenger.sync(record.id);
      results.push({ env: env.name, deployId: record.id, created: true });
    }
    reply(res, 202, { event, deploys: results });
  }

  return {
    path: '/github/webhook',
    method: ['POST'],
    handler: (req: IncomingMessage, res: ServerResponse) => {
      handle(req, res).catch((err: Error) => {
        log.error({ err: err.message }, 'github webhook failed');
        if (!res.headersSent) reply(res, 500, { error: 'Shipmate could not handle this delivery; GitHub may redeliver it.' });
      });
    },
  };
}
