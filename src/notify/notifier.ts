// Stakeholder notices, release announcements and follow-ups: what a deploy's lifecycle tells people outside
// its own status message. Called from the lifecycle (request, start, finish) with one line each; everything it
// says goes through the delivery path with a key per deploy, event and channel, so a retried hook says nothing
// twice. It never throws and is never awaited by a deploy: a notice that cannot go out is logged, and the
// deploy carries on.
import { audit, type DeployRecord, type DeployStore } from '../deploys/deploy-store.js';
import type { Config, EnvironmentConfig, NotifyEvent } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { escapeMrkdwn, formatDuration, mention, slackDate } from '../../blocks/format.js';
import { noticeBlocks } from '../../blocks/notifications.js';
import type { Redis } from 'ioredis';
import type { Delivery } from './delivery.js';
import { messageKeys } from './message-keys.js';
import type { FollowUpJobData, FollowUpQueue } from './follow-ups.js';
import { DEFAULT_FOLLOW_UPS, DEFAULT_NOTICES, DEFAULT_POST_MORTEM, fill, isProduction, type MessageTemplate, type NoticeVars } from './templates.js';

export interface NotifierDeps {
  config: Config;
  delivery: Delivery;
  followUps: FollowUpQueue;
  store: DeployStore;
  /** A link to a delivered message by its key (StatusMessenger.link: built from the workspace URL, no Slack call). */
  link?: (key: string) => Promise<string | undefined>;
  redis: Redis;
  prefix: string;
  log: Logger;
  now: () => number;
}

/** Per-deploy choices made on /deploy: `--quiet` and `--notify #channel`. */
export interface DeployNotify {
  quiet?: boolean;
  channels?: string[];
}

export class Notifier {
  private readonly inflight = new Set<Promise<void>>();
  /** One environment's notices run in the order their events happened (a rollback supersedes the release's follow-ups only after they exist). */
  private readonly lastOf = new Map<string, Promise<void>>();

  constructor(private readonly d: NotifierDeps) {}

  /** A deploy was requested (gated or queued). */
  requested(record: DeployRecord): void {
    // Queued with a notice ahead: the notice that says when it starts is the one stakeholders need.
    if (record.status === 'queued' && record.startsAt) return this.ahead(record);
    this.run(record, 'requested', async (env) => {
      const when = record.status === 'pending'
        ? 'It starts once its checklist and sign-offs are complete; we will post here when it does.'
        : 'It is queued and starts as soon as the environment is free.';
      await this.notice(record, env, 'requested', { when });
    });
  }

  /** A deploy queued with `notifications.ahead`: when it will start, said as soon as it is queued. */
  ahead(record: DeployRecord): void {
    this.run(record, 'ahead', (env) => this.notice(record, env, 'ahead', { when: slackDate(record.startsAt ?? this.d.now()) }));
  }

  /** The deploy's first step is about to run (said once, also when a crashed run is resumed). */
  starting(record: DeployRecord): void {
    this.run(record, 'starting', (env) => this.notice(record, env, 'starting', {}));
  }

  /** The deploy ended: the notice for how, the announcement, follow-ups and post-mortem reminder. */
  finished(record: DeployRecord): void {
    this.run(record, 'finished', async (env) => {
      if (record.status === 'succeeded') {
        const rollback = record.kind === 'rollback';
        await this.notice(record, env, rollback ? 'rolledBack' : 'succeeded', {});
        await this.supersede(record);
        if (rollback) await this.schedulePostMortem(record, env);
        else {
          await this.announce(record, env);
          await this.scheduleFollowUps(record, env);
        }
      } else if (record.status === 'failed' || record.status === 'interrupted') {
        await this.notice(record, env, 'failed', {});
      } else {
        // Cancelled, withdrawn or rejected: whoever was told it was coming is told it is not.
        await this.retract(record);
      }
    });
  }

  /** A hotfix that reached its environment gets the same post-mortem reminder as a rollback (for /hotfix when it lands). */
  hotfixed(record: DeployRecord): void {
    this.run(record, 'hotfixed', (env) => this.schedulePostMortem(record, env));
  }

  /** Tells an environment's stakeholders about maintenance ahead (for whatever schedules maintenance). */
  async maintenanceAhead(envName: string, window: { start: number; notes: string }): Promise<void> {
    const env = this.d.config.environments.find((e) => e.name === envName);
    if (!env?.notifications.events.includes('maintenance')) return;
    const vars = { ...this.blankVars(env), when: slackDate(window.start), notes: escapeMrkdwn(window.notes) };
    const message = noticeBlocks(this.view(this.template(env, 'maintenance'), vars, env));
    await Promise.all(env.channels.stakeholders.map((channel) => this.d.delivery.send({ key: `maintenance:${env.name}:${window.start}:${channel}`, channel, ...message })));
  }

  /** The "Cancel follow-ups" button: removes the deploy's reminders not yet posted, audited with who. */
  async cancelFollowUps(deployId: string, user: string): Promise<number> {
    const removed = await this.d.followUps.cancel(deployId, ['followUp']);
    const record = await this.d.store.get(deployId);
    await audit(this.d.redis, this.d.prefix, { action: 'followups.cancelled', user, deployId, env: record?.env ?? '', detail: String(removed) }, this.d.now());
    return removed;
  }

  /** Posts a follow-up that came due (jobs/follow-up.ts); throws so BullMQ retries when Slack is away. */
  async followUpDue(data: FollowUpJobData): Promise<void> {
    const record = await this.d.store.get(data.deployId);
    const env = record && this.env(record);
    if (!record || !env) return;
    const vars = await this.vars(record, env, {});
    // The deploy is always linked, whatever the text says.
    const context = [`${data.kind === 'postMortem' ? 'Post-mortem for' : 'Follow-up of'} ${vars.deploy}: \`${vars.version}\` → ${env.name}`];
    const message = noticeBlocks({ text: fill(data.text, vars), context, cancelFollowUpsOf: data.kind === 'followUp' && !data.last ? record.id : undefined });
    await this.d.delivery.send({ key: `followup:${record.id}:${data.n}`, channel: record.channel, ...message });
  }

  /** Waits for notices still being sent (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  async close(): Promise<void> {
    await this.idle();
    await this.d.followUps.close();
  }

  private run(record: DeployRecord, what: string, work: (env: EnvironmentConfig) => Promise<void>): void {
    const env = this.env(record);
    if (!env) return;
    const p = (this.lastOf.get(env.name) ?? Promise.resolve())
      .then(() => work(env))
      .catch((err: unknown) => this.d.log.warn({ deployId: record.id, what, err: (err as Error).message }, 'notification not sent'))
      .finally(() => {
        this.inflight.delete(p);
        if (this.lastOf.get(env.name) === p) this.lastOf.delete(env.name);
      });
    this.inflight.add(p);
    this.lastOf.set(env.name, p);
  }

  private env(record: DeployRecord): EnvironmentConfig | undefined {
    return this.d.config.environments.find((e) => e.name === record.env);
  }

  /** The stakeholder channels of this deploy: the environment's plus `--notify` ones, none with `--quiet`. */
  private channels(record: DeployRecord, env: EnvironmentConfig): string[] {
    if (record.notify?.quiet) return [];
    return [...new Set([...env.channels.stakeholders, ...(record.notify?.channels ?? [])])];
  }

  private template(env: EnvironmentConfig, event: NotifyEvent): MessageTemplate {
    return env.notifications.templates[event] ?? DEFAULT_NOTICES[event];
  }

  private async notice(record: DeployRecord, env: EnvironmentConfig, event: NotifyEvent, extra: Partial<NoticeVars>): Promise<void> {
    // The ahead notice is asked for by `notifications.ahead` itself.
    if (!env.notifications.events.includes(event) && !(event === 'ahead' && env.notifications.ahead)) return;
    const channels = this.channels(record, env);
    if (!channels.length) return;
    const message = noticeBlocks(this.view(this.template(env, event), await this.vars(record, env, extra), env));
    await Promise.all(channels.map((channel) => this.d.delivery.send({ key: `notice:${record.id}:${event}:${channel}`, channel, ...message })));
  }

  /** A reply under each earlier notice of a deploy that will not happen after all. */
  private async retract(record: DeployRecord): Promise<void> {
    const env = this.env(record);
    if (!env) return;
    const how = record.status === 'rejected' ? 'was not approved' : 'was cancelled';
    for (const channel of this.channels(record, env)) {
      const told = (await Promise.all((['requested', 'ahead', 'starting'] as const).map(async (e) => ((await this.d.delivery.tsOf(`notice:${record.id}:${e}:${channel}`)) ? e : undefined)))).filter(Boolean);
      const last = told.at(-1);
      if (!last) continue;
      const text = `:no_entry_sign: Deploy #${record.id} of \`${escapeMrkdwn(record.version)}\` to *${record.env}* ${how}${last === 'starting' ? '' : ', so it did not start'}.`;
      await this.d.delivery.send({ key: `notice:${record.id}:ended:${channel}`, channel, text, threadOf: `notice:${record.id}:${last}:${channel}` });
    }
  }

  private async announce(record: DeployRecord, env: EnvironmentConfig): Promise<void> {
    const template = env.notifications.announcement;
    const channel = this.d.config.channels.announcements;
    if (!template || !channel || record.notify?.quiet) return;
    const message = noticeBlocks(this.view(template, await this.vars(record, env, {}), env));
    await this.d.delivery.send({ key: `announce:${record.id}`, channel, ...message });
  }

  /** A newer deploy (or a rollback) of the environment makes the earlier deploys' check-ins moot. */
  private async supersede(record: DeployRecord): Promise<void> {
    for (const id of await this.d.followUps.pendingDeploys(record.env, record.id)) {
      const removed = await this.d.followUps.cancel(id, ['followUp']);
      if (removed) this.d.log.info({ deployId: id, by: record.id, removed }, 'follow-ups superseded');
    }
  }

  private async scheduleFollowUps(record: DeployRecord, env: EnvironmentConfig): Promise<void> {
    const list = env.notifications.followUps ?? (isProduction(env) ? DEFAULT_FOLLOW_UPS : []);
    if (!list.length) return;
    await this.d.followUps.schedule(
      list.map((f, n) => ({ deployId: record.id, env: env.name, kind: 'followUp', n, text: f.text, last: n === list.length - 1 })),
      list.map((f) => f.after),
    );
    const lines = list.map((f) => `• ${slackDate(this.d.now() + f.after)}: ${fill(f.text.split('\n')[0] ?? '', this.blankVars(env)).slice(0, 140)}`);
    const message = noticeBlocks({ text: `:calendar: Follow-ups scheduled for deploy #${record.id} (\`${escapeMrkdwn(record.version)}\` → ${env.name}), posted in this channel:\n${lines.join('\n')}`, cancelFollowUpsOf: record.id });
    await this.d.delivery.send({ key: `followups:${record.id}:scheduled`, channel: record.channel, threadOf: `deploy:${record.id}:status`, ...message });
  }

  private async schedulePostMortem(record: DeployRecord, env: EnvironmentConfig): Promise<void> {
    const { after, text } = env.notifications.postMortem;
    // The last slot of the deploy's ids, so it never collides with its follow-ups.
    await this.d.followUps.schedule([{ deployId: record.id, env: env.name, kind: 'postMortem', n: 10, text: text ?? DEFAULT_POST_MORTEM }], [after]);
  }

  private view(template: MessageTemplate, vars: NoticeVars, env: EnvironmentConfig) {
    const links = Object.entries(env.notifications.links).map(([name, url]) => `<${url}|${escapeMrkdwn(name)}>`);
    return { title: template.title && fill(template.title, vars), text: fill(template.text, vars), context: links.length ? [links.join(' · ')] : [] };
  }

  private blankVars(env: EnvironmentConfig): NoticeVars {
    const links = Object.entries(env.notifications.links).map(([name, url]) => `<${url}|${escapeMrkdwn(name)}>`).join(' · ');
    return { version: '', environment: env.name, env: env.name, who: '', notes: '', links, duration: '', deployId: '', ref: '', previous: '', when: '', deploy: '' };
  }

  private async vars(record: DeployRecord, env: EnvironmentConfig, extra: Partial<NoticeVars>): Promise<NoticeVars> {
    const link = (await this.d.link?.(messageKeys.status(record.id))) ?? (await this.d.link?.(messageKeys.gate(record.id)));
    const notes = [...(record.error ? [record.error] : []), ...record.notes].map(escapeMrkdwn).join('; ');
    return {
      ...this.blankVars(env),
      version: escapeMrkdwn(record.version),
      ref: escapeMrkdwn(record.ref),
      who: mention(record.requestedBy),
      notes: notes || '—',
      duration: record.startedAt && record.finishedAt ? formatDuration(record.finishedAt - record.startedAt) : '',
      deployId: record.id,
      previous: escapeMrkdwn(record.rollbackFrom ?? ''),
      deploy: link ? `<${link}|deploy #${record.id}>` : `deploy #${record.id} in <#${record.channel}>`,
      ...extra,
    };
  }
}
