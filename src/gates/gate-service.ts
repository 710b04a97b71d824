// Gates at work: opens a pending deploy, records ticks, approvals, rejections and expiries (each in the
// audit trail), runs automatic checks, and starts the deploy exactly once when everything is met.
import { escapeMrkdwn } from '../../blocks/format.js';
import { roleLabel, type EnvironmentConfig } from '../core/config.js';
import { audit, readDeployAudit, type DeployRecord } from '../deploys/deploy-store.js';
import type { ServiceDeps } from '../deps.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../core/errors.js';
import { allItems, approvalProblem, dropExpired, summarize, type GateState } from './gate-rules.js';
import { httpCheck } from '../steps/http-check.js';
import { runCommand } from '../steps/run-command.js';
import { stepEnv } from '../steps/step-env.js';
import { renderTemplate } from '../core/template.js';
import type { Redis } from 'ioredis';

export class GateService {
  constructor(private readonly d: ServiceDeps) {}

  roleName = (role: string): string => roleLabel(this.d.config, role);

  env(record: DeployRecord): EnvironmentConfig {
    const env = this.d.config.environments.find((e) => e.name === record.env);
    if (!env) throw new ConflictError(`Environment ${record.env} is no longer configured.`);
    return env;
  }

  private async pending(id: string): Promise<{ record: DeployRecord; env: EnvironmentConfig; gates: GateState }> {
    const record = await this.d.store.get(id);
    if (!record?.gates) throw new ConflictError(`Deploy #${id} has no gates.`);
    if (record.status !== 'pending') {
      throw new ConflictError(record.gates.rejected ? `Deploy #${id} was rejected; nothing more to sign.` : `Deploy #${id} is no longer waiting for its gates (${record.status}).`);
    }
    return { record, env: this.env(record), gates: record.gates };
  }

  /**
   * Applies a change to a pending deploy's gates. Expired approvals are dropped first; when the change
   * completes the gates, the same atomic write moves the deploy to 'queued', so only one writer ever starts it.
   */
  private async change(id: string, mutate: (gates: GateState, record: DeployRecord, env: EnvironmentConfig) => void): Promise<{ after: DeployRecord; expired: GateState['approvals'] }> {
    const before = await this.d.store.get(id);
    if (!before) throw new ConflictError(`Deploy #${id} no longer exists.`);
    const env = this.env(before);
    let expired: GateState['approvals'] = [];
    let started = false;
    const after = await this.d.store.update(id, (r) => {
      // May run more than once (a concurrent writer forces a retry): reset what the previous try decided.
      started = false;
      if (r.status !== 'pending' || !r.gates) return false;
      expired = dropExpired(env, r.gates, this.d.now());
      mutate(r.gates, r, env);
      if (summarize(env, r.gates).met) {
        const at = this.d.now();
        r.status = 'queued';
        r.queuedAt = at;
        r.gates.metAt = at;
        started = true;
      }
    });
    for (const e of expired) await audit(this.d.redis, this.d.prefix, { action: 'approval.expired', user: e.user, deployId: id, env: after.env, detail: e.role }, this.d.now());
    // Only the one write that moved the deploy from pending to queued starts it.
    if (started) await this.start(after);
    else await this.d.messenger.syncGate(id);
    return { after, expired };
  }

  private async start(record: DeployRecord): Promise<void> {
    await audit(this.d.redis, this.d.prefix, { action: 'gates.met', user: 'shipmate', deployId: record.id, env: record.env }, this.d.now());
    await this.d.queues.enqueue(record.env, record.id);
    this.d.log.info({ deployId: record.id, env: record.env }, 'gates met; deploy queued');
    await this.d.messenger.sync(record.id);
    await this.d.messenger.syncGate(record.id);
  }

  /** Whether `user` may tick checklist items: anyone who may deploy there, holds a sign-off role, or asked. */
  async mayTick(record: DeployRecord, user: string): Promise<boolean> {
    const env = this.env(record);
    if (user === record.requestedBy) return true;
    if (await this.d.roles.mayDeploy(env, user)) return true;
    return this.d.roles.hasAnyRole(user, env.approvals?.roles ?? []);
  }

  async tick(id: string, user: string, deltas: Array<{ id: string; checked: boolean }>): Promise<DeployRecord> {
    const { record, env } = await this.pending(id);
    if (!(await this.mayTick(record, user))) {
      await audit(this.d.redis, this.d.prefix, { action: 'checklist.refused', user, deployId: id, env: env.name }, this.d.now());
      throw new NotAuthorizedError(`You may not tick the checklist of deploy #${id}: ask someone who deploys to ${env.name} or holds one of its sign-off roles.`);
    }
    const known = new Map(allItems(env).map((it) => [it.id, it]));
    const manual = deltas.filter((d) => known.has(d.id) && !known.get(d.id)?.check);
    if (manual.length === 0) throw new UserInputError('That item is ticked by an automatic check, not by hand. Use *Re-run checks* if it failed.');
    const at = this.d.now();
    let changed: typeof manual = [];
    const { after } = await this.change(id, (gates) => {
      changed = manual.filter((d) => (gates.items[d.id]?.checked ?? false) !== d.checked); // a double click changes nothing
      for (const d of changed) gates.items[d.id] = { checked: d.checked, by: user, at };
    });
    for (const d of changed) await audit(this.d.redis, this.d.prefix, { action: d.checked ? 'checklist.ticked' : 'checklist.unticked', user, deployId: id, env: env.name, detail: d.id }, at);
    return after;
  }

  async approve(id: string, user: string, role: string): Promise<DeployRecord> {
    const { record, env } = await this.pending(id);
    const held = await this.d.roles.rolesOf(user);
    let problem: string | undefined;
    const at = this.d.now();
    const { after } = await this.change(id, (gates, r) => {
      problem = approvalProblem(env, gates, r.requestedBy, user, role, held, this.roleName);
      if (!problem) gates.approvals.push({ user, role, at });
    });
    if (problem) {
      await audit(this.d.redis, this.d.prefix, { action: 'approval.refused', user, deployId: id, env: env.name, detail: `${role}: ${problem}` }, at);
      this.d.log.warn({ deployId: id, user, role, reason: problem }, 'approval refused');
      const unauthorized = !held.has(role) || (user === record.requestedBy && !env.approvals?.allowRequester);
      throw unauthorized ? new NotAuthorizedError(problem) : new ConflictError(problem);
    }
    await audit(this.d.redis, this.d.prefix, { action: 'approval.given', user, deployId: id, env: env.name, detail: role }, at);
    if (env.approvals?.expiresAfter && after.status === 'pending') await this.d.queues.scheduleGateJob({ kind: 'expire', deployId: id }, env.approvals.expiresAfter + 50, `${id}-${user}-${at}`);
    return after;
  }

  /** Who may reject: anyone holding one of the environment's sign-off roles. */
  async checkMayReject(id: string, user: string): Promise<DeployRecord> {
    const { record, env } = await this.pending(id);
    if (!(await this.d.roles.hasAnyRole(user, env.approvals?.roles ?? []))) {
      await audit(this.d.redis, this.d.prefix, { action: 'rejection.refused', user, deployId: id, env: env.name }, this.d.now());
      throw new NotAuthorizedError(`Only someone holding a sign-off role for ${env.name} (${(env.approvals?.roles ?? []).map(this.roleName).join(', ')}) can reject deploy #${id}.`);
    }
    return record;
  }

  async reject(id: string, user: string, reason: string): Promise<DeployRecord> {
    await this.checkMayReject(id, user);
    const at = this.d.now();
    const after = await this.d.store.update(id, (r) => {
      if (r.status !== 'pending' || !r.gates) return false;
      r.gates.rejected = { user, reason, at };
      r.status = 'rejected';
      r.finishedAt = at;
      for (const s of r.steps) s.status = 'skipped';
    });
    if (after.status !== 'rejected' || after.gates?.rejected?.user !== user) throw new ConflictError(`Deploy #${id} is no longer waiting for its gates.`);
    await audit(this.d.redis, this.d.prefix, { action: 'deploy.rejected', user, deployId: id, env: after.env, detail: reason }, at);
    await this.d.messenger.syncGate(id);
    await this.d.messenger.recordLog({ deployId: id, env: after.env, version: after.version, ref: after.ref, deployedBy: after.requestedBy, status: 'rejected', at, notes: [`rejected by <@${user}>: ${escapeMrkdwn(reason)}`, ...gateNotes(after, this.roleName), ...(await refusalNotes(this.d.redis, this.d.prefix, id))] });
    try {
      await this.d.slack.chat.postEphemeral({ channel: after.channel, user: after.requestedBy, text: `:no_entry: <@${user}> rejected your deploy #${id} (\`${after.version}\` → ${after.env}): ${escapeMrkdwn(reason)}` });
    } catch (err) {
      this.d.log.warn({ deployId: id, err: (err as Error).message }, 'could not tell the requester about the rejection');
    }
    return after;
  }

  async setPage(id: string, page: number): Promise<void> {
    await this.change(id, (gates) => {
      gates.page = Math.max(0, page);
    });
  }

  /** Runs every automatic check of a pending deploy (in a worker, never in a request) and ticks what passes. */
  async runChecks(id: string): Promise<void> {
    const record = await this.d.store.get(id);
    if (record?.status !== 'pending' || !record.gates) return;
    const env = this.env(record);
    const vars = { env: record.env, version: record.version, ref: record.ref, user: record.requestedBy, deployId: record.id };
    const checks = allItems(env).filter((it) => it.check && !record.gates?.items[it.id]?.checked);
    await Promise.all(
      checks.map(async (item) => {
        const check = item.check;
        if (!check) return;
        let ok: boolean;
        let reason: string;
        try {
          if ('run' in check) {
            const argv = check.run.map((a) => renderTemplate(a, vars));
            const res = await runCommand(argv, { timeoutMs: check.timeout, env: stepEnv(this.d.stepEnv, vars) });
            ok = res.exitCode === 0;
            const lastLine = res.output.trim().split('\n').at(-1) ?? '';
            reason = ok ? `\`${argv[0]}\` exited 0` : res.timedOut ? `timed out after ${Math.round(check.timeout / 1000)} s` : `\`${argv[0]}\` exited ${res.exitCode ?? res.signal}${lastLine ? `: ${lastLine.slice(0, 150)}` : ''}`;
          } else {
            const res = await httpCheck({ url: renderTemplate(check.http, vars), method: 'GET', expectStatus: check.expectStatus, headers: {}, retries: 0, retryDelay: 0, timeout: check.timeout });
            ok = res.ok;
            reason = res.output.replace(/^attempt 1\/1: /, '').slice(0, 200);
          }
        } catch (err) {
          ok = false;
          reason = (err as Error).message;
        }
        const at = this.d.now();
        await this.change(id, (gates) => {
          gates.items[item.id] = ok ? { checked: true, by: 'shipmate', at, auto: true, reason } : { checked: false, auto: true, reason, at };
        }).catch((err: Error) => this.d.log.info({ deployId: id, err: err.message }, 'check finished after the deploy left pending'));
        await audit(this.d.redis, this.d.prefix, { action: ok ? 'checklist.auto-ticked' : 'checklist.auto-failed', user: 'shipmate', deployId: id, env: env.name, detail: `${item.id}: ${reason}` }, at);
      }),
    );
  }

  async rerunChecks(id: string, user: string): Promise<void> {
    const { record } = await this.pending(id);
    if (!(await this.mayTick(record, user))) throw new NotAuthorizedError(`You may not re-run the checks of deploy #${id}.`);
    await this.change(id, (gates) => {
      for (const [itemId, s] of Object.entries(gates.items)) if (s.auto && !s.checked) gates.items[itemId] = { ...s, checking: true };
    });
    await this.d.queues.scheduleGateJob({ kind: 'checks', deployId: id }, 0, `${id}-${this.d.now()}`);
  }

  /** Drops expired approvals and says so on the gate message (run by a delayed job). */
  async expire(id: string): Promise<void> {
    const record = await this.d.store.get(id);
    if (record?.status !== 'pending') return;
    await this.change(id, () => undefined);
  }

  /** Tells the approvers: a DM each, or one mention of the roles' user groups in the channel. */
  async notifyApprovers(record: DeployRecord): Promise<void> {
    const env = this.env(record);
    const rules = env.approvals;
    if (!rules || rules.notify === 'none') return;
    const link = record.gates?.gateTs ? await this.d.messenger.permalink(record.channel, record.gates.gateTs) : undefined;
    const text = `<@${record.requestedBy}> asks for your sign-off on deploy #${record.id}: \`${record.version}\` → *${record.env}*.${link ? ` <${link}|Open the gate message>` : ''} You can also approve from Shipmate's Home tab.`;
    try {
      if (rules.notify === 'group') {
        const groups = rules.roles.flatMap((r) => this.d.config.roles[r]?.groups ?? []);
        const users = rules.roles.flatMap((r) => this.d.config.roles[r]?.users ?? []).filter((u) => u !== record.requestedBy);
        const mentions = [...groups.map((g) => `<!subteam^${g}>`), ...users.map((u) => `<@${u}>`)].join(' ');
        if (mentions && record.gates?.gateTs) await this.d.slack.chat.postMessage({ channel: record.channel, thread_ts: record.gates.gateTs, text: `${mentions} ${text}` });
        return;
      }
      const users = new Set<string>();
      for (const role of rules.roles) for (const u of this.d.config.roles[role]?.users ?? []) users.add(u);
      users.delete(record.requestedBy);
      for (const user of users) {
        await this.d.slack.chat.postMessage({ channel: user, text });
      }
    } catch (err) {
      this.d.log.warn({ deployId: record.id, err: (err as Error).message }, 'could not notify approvers');
    }
  }

  /** The sign-off some environments need after a successful deploy (Ontos: product team on staging). */
  async postDeploySignoff(id: string, user: string): Promise<DeployRecord> {
    const record = await this.d.store.get(id);
    if (!record) throw new ConflictError(`Deploy #${id} no longer exists.`);
    const env = this.env(record);
    const rule = env.postDeploySignoff;
    if (!rule) throw new ConflictError(`Deploys to ${env.name} need no sign-off after deploy.`);
    if (record.status !== 'succeeded') throw new ConflictError(`Deploy #${id} did not succeed, so there is nothing to sign off.`);
    if (!(await this.d.roles.hasAnyRole(user, [rule.role]))) {
      await audit(this.d.redis, this.d.prefix, { action: 'signoff.refused', user, deployId: id, env: env.name }, this.d.now());
      throw new NotAuthorizedError(`Only ${rule.label ?? this.roleName(rule.role)} can sign off deploy #${id}.`);
    }
    const at = this.d.now();
    const after = await this.d.store.update(id, (r) => {
      r.gates ??= { items: {}, approvals: [], expired: [], page: 0 };
      if (r.gates.postDeploySignoff) return false;
      r.gates.postDeploySignoff = { user, role: rule.role, at };
    });
    if (after.gates?.postDeploySignoff?.user !== user || after.gates.postDeploySignoff.at !== at) {
      throw new ConflictError(`Deploy #${id} was already signed off by <@${after.gates?.postDeploySignoff?.user}>.`);
    }
    await audit(this.d.redis, this.d.prefix, { action: 'signoff.given', user, deployId: id, env: env.name, detail: rule.role }, at);
    await this.d.messenger.sync(id);
    await this.d.messenger.recordSignoff(after, `${rule.label ?? this.roleName(rule.role)} sign-off by <@${user}>`);
    return after;
  }
}

/** Refused attempts on this deploy (approvals, ticks, rejections, sign-offs), for its log entry. */
export async function refusalNotes(redis: Redis, prefix: string, deployId: string): Promise<string[]> {
  const refused = (await readDeployAudit(redis, prefix, deployId)).filter((e) => e.action.endsWith('.refused'));
  if (refused.length === 0) return [];
  const what = (action: string) => action.replace(/\.refused$/, '').replace('checklist', 'tick').replace('approval', 'approve').replace('rejection', 'reject');
  return [`refused: ${refused.slice(0, 10).map((e) => `${what(e.action)} by <@${e.user}>`).join(', ')}${refused.length > 10 ? ` and ${refused.length - 10} more` : ''}`];
}

/** What the deployment-log entry says about a deploy's gates. */
export function gateNotes(record: DeployRecord, roleName: (r: string) => string): string[] {
  const g = record.gates;
  if (!g) return [];
  const notes: string[] = [];
  const items = Object.values(g.items);
  if (items.length) {
    const manual = items.filter((s) => s.checked && !s.auto).map((s) => s.by).filter((u): u is string => !!u);
    const tickers = [...new Set(manual)].map((u) => `<@${u}>`).join(', ');
    notes.push(`checklist ${items.filter((s) => s.checked).length}/${items.length}${tickers ? ` ticked by ${tickers}` : ''}${items.some((s) => s.auto && s.checked) ? ' (+ automatic checks)' : ''}`);
  }
  if (g.approvals.length) notes.push(`approved by ${g.approvals.map((a) => `<@${a.user}> (${roleName(a.role)})`).join(', ')}`);
  if (g.expired.length) notes.push(`${g.expired.length} approval(s) expired`);
  return notes;
}
