// Posts and updates what the channel sees of a deploy: its status message, step output in the
// thread, and the deployment-log entry. Slack failures are logged, never allowed to stop a deploy.
import type { WebClient } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import { deployLogBlocks } from '../../blocks/deploy-log.js';
import { deployStatusBlocks, stepOutputBlocks } from '../../blocks/deploy-status.js';
import { gateMessageBlocks } from '../../blocks/gate-message.js';
import { codeVersion } from '../../blocks/format.js';
import { roleLabel, type Config } from '../core/config.js';
import type { DeployRecord, DeployStore, LogEntry } from '../deploys/deploy-store.js';
import type { Logger } from '../core/logger.js';
import type { DeployMetrics } from '../ops/ops.js';

/** Longer than one Slack call with its retries, so a slow post is never duplicated by the next writer. */
const LOCK_MS = 60_000;

export class StatusMessenger {
  constructor(
    private readonly store: DeployStore,
    private readonly slack: WebClient,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly metrics?: DeployMetrics,
  ) {}

  /** Queue position: 1 means next in line (or running); only this environment's deploys count. */
  async position(record: DeployRecord): Promise<number> {
    if (record.status !== 'queued') return 0;
    const active = await this.store.active();
    const ahead = active.filter(
      (d) => d.env === record.env && d.id !== record.id && (d.status === 'running' || (d.status === 'queued' && (d.queuedAt ?? 0) < (record.queuedAt ?? 0))),
    );
    return ahead.length + 1;
  }

  /**
   * Brings the status message in line with the stored record: posts it the first time, updates it after.
   * A per-deploy lock makes sure two writers never post it twice, and whoever holds the lock renders the
   * latest record, so the message never goes backwards.
   */
  async sync(id: string): Promise<void> {
    await this.store.withLock(`status:${id}`, LOCK_MS, async () => {
      const record = await this.store.get(id);
      // A deploy waiting for its gates has only its gate message; the status message comes once it is queued.
      if (!record || record.queuedAt === undefined) return;
      const env = this.config.environments.find((e) => e.name === record.env);
      const signoff = env?.postDeploySignoff;
      const { text, blocks } = deployStatusBlocks(record, {
        position: await this.position(record),
        signoff: signoff ? { label: signoff.label ?? roleLabel(this.config, signoff.role) } : undefined,
      });
      try {
        if (!record.statusTs) {
          const res = await this.slack.chat.postMessage({ channel: record.channel, text, blocks, unfurl_links: false });
          if (res.ts) {
            await this.store.update(id, (r) => {
              r.statusTs = res.ts;
              r.channel = res.channel ?? r.channel;
            });
          }
        } else {
          await this.slack.chat.update({ channel: record.channel, ts: record.statusTs, text, blocks });
        }
      } catch (err) {
        this.log.warn({ deployId: id, err: (err as Error).message }, 'status message not delivered');
      }
    });
  }

  /** Posts or updates the gate message (checklist and sign-offs) of a deploy that has gates. */
  async syncGate(id: string): Promise<void> {
    await this.store.withLock(`gate:${id}`, LOCK_MS, async () => {
      const record = await this.store.get(id);
      const env = record && this.config.environments.find((e) => e.name === record.env);
      if (!record?.gates || !env) return;
      const statusLink = record.status !== 'pending' && record.statusTs ? await this.permalink(record.channel, record.statusTs) : undefined;
      const { text, blocks } = gateMessageBlocks(record, env, (r) => roleLabel(this.config, r), { statusLink });
      try {
        if (!record.gates.gateTs) {
          const res = await this.slack.chat.postMessage({ channel: record.channel, text, blocks, unfurl_links: false });
          if (res.ts) {
            await this.store.update(id, (r) => {
              if (r.gates) r.gates.gateTs = res.ts;
            });
          }
        } else {
          await this.slack.chat.update({ channel: record.channel, ts: record.gates.gateTs, text, blocks });
        }
      } catch (err) {
        this.log.warn({ deployId: id, err: (err as Error).message }, 'gate message not delivered');
      }
    });
  }

  async permalink(channel: string, ts: string): Promise<string | undefined> {
    try {
      return (await this.slack.chat.getPermalink({ channel, message_ts: ts })).permalink;
    } catch {
      return undefined;
    }
  }

  /** A post-deploy sign-off goes into the deploy's thread and the deploy-log channel. */
  async recordSignoff(record: DeployRecord, line: string): Promise<void> {
    await this.postInThread(record.id, { text: `:white_check_mark: ${line}`, blocks: [] as KnownBlock[] });
    const channel = this.config.channels.deployLog;
    if (!channel) return;
    try {
      await this.slack.chat.postMessage({ channel, text: `:white_check_mark: Deploy #${record.id} (${codeVersion(record)} → ${record.env}): ${line}.` });
    } catch (err) {
      this.log.warn({ deployId: record.id, err: (err as Error).message }, 'sign-off not delivered to the deploy log');
    }
  }

  /** Re-renders the status message of every unfinished deploy of an environment (their positions moved). */
  async syncEnvironment(env: string): Promise<void> {
    const active = (await this.store.active()).filter((d) => d.env === env && d.status === 'queued');
    await Promise.all(active.map((d) => this.sync(d.id)));
  }

  async postInThread(id: string, message: { text: string; blocks: KnownBlock[] }): Promise<string | undefined> {
    const record = await this.store.get(id);
    if (!record?.statusTs) {
      await this.sync(id);
    }
    const fresh = await this.store.get(id);
    if (!fresh?.statusTs) return undefined;
    try {
      const res = await this.slack.chat.postMessage({ channel: fresh.channel, thread_ts: fresh.statusTs, ...message, unfurl_links: false });
      return res.ts;
    } catch (err) {
      this.log.warn({ deployId: id, err: (err as Error).message }, 'thread message not delivered');
      return undefined;
    }
  }

  async postStepOutput(id: string, stepIndex: number, output: string): Promise<string | undefined> {
    const record = await this.store.get(id);
    const step = record?.steps[stepIndex];
    if (!step) return undefined;
    return this.postInThread(id, stepOutputBlocks(step, stepIndex, output));
  }

  /** Stores the log entry (once per deploy) and posts it to the deploy-log channel. */
  async recordLog(entry: LogEntry): Promise<void> {
    const first = await this.store.appendLog(entry);
    if (!first) return;
    this.metrics?.deploys.inc({ env: entry.env, status: entry.status, kind: entry.notes.some((n) => n.startsWith('rollback from')) ? 'rollback' : 'deploy' });
    if (entry.durationMs !== undefined) this.metrics?.duration.observe({ env: entry.env, status: entry.status }, entry.durationMs / 1000);
    const channel = this.config.channels.deployLog;
    if (!channel) return;
    try {
      await this.slack.chat.postMessage({ channel, ...deployLogBlocks(entry), unfurl_links: false });
    } catch (err) {
      this.log.warn({ deployId: entry.deployId, err: (err as Error).message }, 'deploy-log entry not delivered');
    }
  }
}
