// Gates at work: opens a pending deploy, records ticks, approvals, rejections and expiries (each audited in
// the same atomic write as the change, so the trail holds only what took effect), runs automatic checks,
// and starts the deploy exactly once when everything is met.
import { envForKind } from './release-kinds.js';
import { escapeMrkdwn } from '../../blocks/format.js';
import { roleLabel, type EnvironmentConfig } from '../core/config.js';
import { audit, readDeployAudit, type AuditEntry, type DeployRecord } from '../deploys/deploy-store.js';
import { updateApplied } from '../deploys/deploy-service.js';
import type { ServiceDeps } from '../deps.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../core/errors.js';

/**
 * One change to a pending deploy's gates: returns the audit entries of what it did, or false when it changes
 * nothing (then nothing is written). Returning nothing means "changed, nothing to audit".
 */
type GateMutation = (gates: GateState, record: DeployRecord, env: EnvironmentConfig) => AuditEntry[] | false | void;
import { allItems, approvalProblem, dropExpired, summarize, type GateState } from './gate-rules.js';
import { httpCheck } from '../steps/http-check.js';
import { githubCheck } from '../github/checks.js';
import { runCommand } from '../steps/run-command.js';
import { stepEnv } from '../steps/step-env.js';
import { deployVars, renderTemplate } from '../core/template.js';
import { messageKeys } from '../notify/message-keys.js';
import { enqueueDeploy } from '../deploys/enqueue.js';
import type { Redis } from 'ioredis';
import { gateEnvironment } from '../migrations/override.js';

export class GateService {
  constructor(private readonly d: ServiceDeps) {}

  roleName = (role: string): string => roleLabel(this.d.config, role);

  env(record: DeployRecord): EnvironmentConfig {
    const env = this.d.config.environments.find((e) => e.name === record.env);
    if (!env) throw new ConflictError(`Environment ${record.env} is no longer configured.`);
    // A migration outside its window takes the override rules; a release kind's approvals and checklist stand in for the environment's.
    return gateEnvironment(envForKind(this.d.config, env, record.release?.kind), record);
  }

  private async pending(id: string): Promise<{ record: DeployRecord; env: EnvironmentConfig; gates: GateState }> {
    const record = await this.d.store.get(id);
    if (!record?.gates) throw new ConflictError(`Deploy #${id} has no gates.`);
    if (record.status !== 'pending') throw new ConflictError(notPendingReason(record));
    return { record, env: this.env(record), gates: record.gates };
  }

  /**
   * Applies a change to a pending deploy's gates. Expired approvals are dropped first; when the change
   * completes the gates, the same atomic write moves the deploy to 'queued', so only one writer ever starts it.
   * The audit entries (the change's own, expiries, gates.met) go into that same write. `applied` says whether
   * this call's change is the one stored: false when the deploy left 'pending' first or the change did nothing.
   */
  private async change(id: string, mutate: GateMutation): Promise<{ after: DeployRecord; applied: boolean }> {
    const before = await this.d.store.get(id);
    if (!before) throw new ConflictError(`Deploy #${id} no longer exists.`);
    const env = this.env(before);
    let started = false;
    let changed = false;
    let entries: AuditEntry[] = [];
    const { after, applied } = await updateApplied(this.d.store, id, (r) => {
      // May run more than once (a concurrent writer forces a retry): each try decides afresh.
      started = false;
      changed = false;
      entries = [];
      if (r.status !== 'pending' || !r.gates) return false;
      const at = this.d.now();
      const expired = dropExpired(env, r.gates, at);
      entries = expired.map((e) => ({ action: 'approval.expired', user: e.user, deployId: id, env: env.name, detail: e.role }));
      const did = mutate(r.gates, r, env);
      changed = did !== false;
      if (did) entries.push(...did);
      if (!changed && expired.length === 0) return false;
      if (summarize(env, r.gates).met) {
        r.status = 'queued';
        r.queuedAt = at;
        r.gates.metAt = at;
        started = true;
        entries.push({ action: 'gates.met', user: 'shipmate', deployId: id, env: env.name });
      }
    }, () => entries);
    // Only the one write that moved the deploy from pending to queued starts it.
    if (applied && started) await this.start(after);
    else if (applied) await this.d.messenger.syncGate(id);
    return { after, applied: applied && changed };
  }

  private async start(record: DeployRecord): Promise<void> {
    const queued = await enqueueDeploy(this.d, record);
    this.d.log.info({ deployId: record.id, env: record.env, startsAt: queued.startsAt }, 'gates met; deploy queued');
    if (queued.startsAt) this.d.notifier.ahead(queued);
    // In the background, never holding the click: GitHub's Deployment says "queued" too.
    void this.d.githubDeployments.queued(record.id);
    await this.d.messenger.sync(record.id);
    await this.d.messenger.syncGate(record.id);
  }

  /** Whether `user` may tick checklist items: anyone who may deploy there, holds a sign-off role, or asked. */
  async mayTick(record: DeployRecord, user: string): Promise<boolean> {
    const env = this.env(record);
    if (user === record.requestedBy) return true;
    if (await this.d.roles.mayDeploy(env, user)) return true;
    // hasAnyRole([]) means "no restriction": an environment without sign-off roles adds nobody here.
    const signers = env.approvals?.roles ?? [];
    return signers.length > 0 && this.d.roles.hasAnyRole(user, signers);
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
    const { after, applied } = await this.change(id, (gates) => {
      const changed = manual.filter((d) => (gates.items[d.id]?.checked ?? false) !== d.checked); // a double click changes nothing
      if (changed.length === 0) return false;
      for (const d of changed) gates.items[d.id] = { checked: d.checked, by: user, at };
      return changed.map((d) => ({ action: d.checked ? 'checklist.ticked' : 'checklist.unticked', user, deployId: id, env: env.name, detail: d.id }));
    });
    if (!applied && after.status !== 'pending') throw new ConflictError(notPendingReason(after));
    return after;
  }

  async approve(id: string, user: string, role: string): Promise<DeployRecord> {
    const { record, env } = await this.pending(id);
    const held = await this.d.roles.rolesOf(user);
    let problem: string | undefined;
    const at = this.d.now();
    const { after, applied } = await this.change(id, (gates, r) => {
      problem = approvalProblem(env, gates, r.requestedBy, user, role, held, this.roleName);
      if (problem) return false;
      gates.approvals.push({ user, role, at });
      return [{ action: 'approval.given', user, deployId: id, env: env.name, detail: role }];
    });
    // Lost a race: another click met the gates, or the deploy was withdrawn or rejected in between.
    if (!applied && after.status !== 'pending') throw new ConflictError(notPendingReason(after));
    // Lost a race while the deploy still waits for its checklist: the approvals it needs are all in.
    if (!applied && after.gates && summarize(env, after.gates).approvalsNeeded === 0 && held.has(role)) {
      throw new ConflictError(`${approvedBy(after)} — deploy #${id} needs no more sign-offs (it still waits for its checklist).`);
    }
    if (!applied) {
      await audit(this.d.redis, this.d.prefix, { action: 'approval.refused', user, deployId: id, env: env.name, detail: `${role}: ${problem}` }, at);
      this.d.log.warn({ deployId: id, user, role, reason: problem }, 'approval refused');
      const unauthorized = !held.has(role) || (user === record.requestedBy && !env.approvals?.allowRequester);
      throw unauthorized ? new NotAuthorizedError(problem ?? 'Not allowed.') : new ConflictError(problem ?? `Deploy #${id} did not take that approval; try again.`);
    }
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
    const { after, applied } = await updateApplied(this.d.store, id, (r) => {
      if (r.status !== 'pending' || !r.gates) return false;
      r.gates.rejected = { user, reason, at };
      r.status = 'rejected';
      r.finishedAt = at;
      for (const s of r.steps) s.status = 'skipped';
    }, (next) => [{ action: 'deploy.rejected', user, deployId: id, env: next.env, detail: reason }]);
    if (!applied) throw new ConflictError(notPendingReason(after));
    this.d.notifier.finished(after);
    await this.d.messenger.syncGate(id);
    await this.d.messenger.recordLog({ deployId: id, env: after.env, version: after.version, ref: after.ref, deployedBy: after.requestedBy, status: 'rejected', at, notes: [`rejected by <@${user}>: ${escapeMrkdwn(reason)}`, ...gateNotes(after, this.roleName), ...(await refusalNotes(this.d.redis, this.d.prefix, id))] });
    // The requester hears it by DM (delivered like every message); the gate message and the DMs say it too.
    await this.d.delivery.send({ key: `deploy:${id}:rejected`, channel: after.requestedBy, text: `:no_entry: <@${user}> rejected your deploy #${id} (\`${after.version}\` → ${after.env}): ${escapeMrkdwn(reason)}` });
    return after;
  }

  /** Turns the gate message to another checklist page: it is everyone's message, so only those who can act on it may. */
  async setPage(id: string, user: string, page: number): Promise<void> {
    const { record, env } = await this.pending(id);
    if (!(await this.mayTick(record, user))) {
      await audit(this.d.redis, this.d.prefix, { action: 'page.refused', user, deployId: id, env: env.name }, this.d.now());
      throw new NotAuthorizedError(`Only those who can act on deploy #${id} (its requester, ${env.name}'s deployers and sign-off roles) can turn its checklist pages; the message stays as it is.`);
    }
    await this.change(id, (gates) => {
      if (gates.page === page) return false;
      gates.page = Math.max(0, page);
    });
  }

  /** Runs every automatic check of a pending deploy (in a worker, never in a request) and ticks what passes. */
  async runChecks(id: string): Promise<void> {
    const record = await this.d.store.get(id);
    if (record?.status !== 'pending' || !record.gates) return;
    const env = this.env(record);
    const vars = deployVars(record);
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
          } else if ('github' in check) {
            ({ ok, reason } = await githubCheck(this.d.github, check.github, record.ref));
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
    if (!(await this.mayTick(record, user))) {
      await audit(this.d.redis, this.d.prefix, { action: 'checks.rerun-refused', user, deployId: id, env: record.env }, this.d.now());
      throw new NotAuthorizedError(`You may not re-run the checks of deploy #${id}.`);
    }
    await this.change(id, (gates) => {
      for (const [itemId, s] of Object.entries(gates.items)) if (s.auto && !s.checked) gates.items[itemId] = { ...s, checking: true };
    });
    await this.d.queues.scheduleGateJob({ kind: 'checks', deployId: id }, 0, `${id}-${this.d.now()}`);
  }

  /** Drops expired approvals and says so on the gate message (run by a delayed job). */
  async expire(id: string): Promise<void> {
    const record = await this.d.store.get(id);
    if (record?.status !== 'pending') return;
    await this.change(id, () => false);
  }

  /** Tells the approvers: a DM each (kept up to date as the deploy moves), or one mention of the roles' user groups in the gate thread. */
  async notifyApprovers(record: DeployRecord): Promise<void> {
    const env = this.env(record);
    const rules = env.approvals;
    if (!rules || rules.notify === 'none') return;
    if (rules.notify === 'group') {
      const groups = rules.roles.flatMap((r) => this.d.config.roles[r]?.groups ?? []);
      const users = rules.roles.flatMap((r) => this.d.config.roles[r]?.users ?? []).filter((u) => u !== record.requestedBy);
      const mentions = [...groups.map((g) => `<!subteam^${g}>`), ...users.map((u) => `<@${u}>`)].join(' ');
      const link = await this.d.messenger.link(messageKeys.gate(record.id));
      const text = `${mentions} <@${record.requestedBy}> asks for your sign-off on deploy #${record.id}: \`${record.version}\` → *${record.env}*.${link ? ` <${link}|Open the gate message>` : ''} You can also approve from Shipmate's Home tab.`;
      if (mentions) await this.d.delivery.send({ key: `deploy:${record.id}:approvers`, channel: record.channel, threadOf: messageKeys.gate(record.id), text });
      return;
    }
    const users = new Set<string>();
    for (const role of rules.roles) for (const u of this.d.config.roles[role]?.users ?? []) users.add(u);
    users.delete(record.requestedBy);
    await this.d.messenger.askApprovers(record, [...users]);
  }

  /** The sign-off some environments need after a successful deploy (Ontos: product team on staging). */
  async postDeploySignoff(id: string, user: string): Promise<DeployRecord> {
    const record = await this.d.store.get(id);
    if (!record) throw new ConflictError(`Deploy #${id} no longer exists.`);
    const env = this.env(record);
    const rule = env.postDeploySignoff;
    const signedBy = (r: DeployRecord) => new ConflictError(`Deploy #${id} was already signed off by <@${r.gates?.postDeploySignoff?.user}>.`);
    if (!rule) throw new ConflictError(`Deploys to ${env.name} need no sign-off after deploy.`);
    if (record.status !== 'succeeded') throw new ConflictError(`Deploy #${id} did not succeed, so there is nothing to sign off.`);
    if (record.gates?.postDeploySignoff) throw signedBy(record);
    if (!(await this.d.roles.hasAnyRole(user, [rule.role]))) {
      await audit(this.d.redis, this.d.prefix, { action: 'signoff.refused', user, deployId: id, env: env.name }, this.d.now());
      throw new NotAuthorizedError(`Only ${rule.label ?? this.roleName(rule.role)} can sign off deploy #${id}.`);
    }
    const at = this.d.now();
    const { after, applied } = await updateApplied(this.d.store, id, (r) => {
      if (r.gates?.postDeploySignoff) return false;
      r.gates ??= { items: {}, approvals: [], expired: [], page: 0 };
      r.gates.postDeploySignoff = { user, role: rule.role, at };
    }, () => [{ action: 'signoff.given', user, deployId: id, env: env.name, detail: rule.role }]);
    // A double click: only the click whose write was stored records, posts and audits the sign-off.
    if (!applied) throw signedBy(after);
    await this.d.messenger.sync(id);
    await this.d.messenger.recordSignoff(after, `${rule.label ?? this.roleName(rule.role)} sign-off by <@${user}>`);
    return after;
  }
}

function approvedBy(r: DeployRecord): string {
  return `Already approved by ${[...new Set((r.gates?.approvals ?? []).map((a) => `<@${a.user}>`))].join(' and ')}`;
}

/** Why a gate action on a deploy that is no longer pending does nothing, said to the person who clicked. */
export function notPendingReason(r: DeployRecord): string {
  const g = r.gates;
  if (g?.rejected) return `Deploy #${r.id} was rejected by <@${g.rejected.user}>; nothing more to sign.`;
  if (g?.withdrawn) return `Deploy #${r.id} was withdrawn by <@${g.withdrawn.user}>; nothing more to sign.`;
  if (g?.metAt) {
    return g.approvals.length
      ? `${approvedBy(r)} — deploy #${r.id} needs no more sign-offs (it is ${r.status}).`
      : `Deploy #${r.id} needs nothing more: its gates were met and it is ${r.status}.`;
  }
  if (r.cancelledBy) return `Deploy #${r.id} was cancelled by <@${r.cancelledBy}>; nothing more to sign.`;
  return `Deploy #${r.id} is no longer waiting for its gates (${r.status}).`;
}

/** Refused attempts on this deploy (approvals, ticks, rejections, sign-offs), for its log entry. */
export async function refusalNotes(redis: Redis, prefix: string, deployId: string): Promise<string[]> {
  const refused = (await readDeployAudit(redis, prefix, deployId)).filter((e) => e.action.endsWith('.refused'));
  if (refused.length === 0) return [];
  const what = (action: string) => action.replace(/\.refused$/, '').replace('checklist', 'tick').replace('approval', 'approve').replace('rejection', 'reject').replace(/^page$/, 'turn a page');
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
