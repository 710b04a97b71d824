// What the channel sees of a deploy: its status message, its gate message, each approver's DM (all three one live
// message each, edited as the deploy moves), step output in the thread, and the deployment-log entry. Everything
// goes through the delivery path (src/notify/delivery.ts): these calls only render and enqueue, so a deploy never
// waits on Slack or fails because of it.
import { envForKind, kindSummary } from '../gates/release-kinds.js';
import { gateEnvironment } from '../migrations/override.js';
import { createHash } from 'node:crypto';
import type { KnownBlock } from '@slack/types';
import type { Redis } from 'ioredis';
import { approvalDmText } from '../../blocks/approval-dm.js';
import { deployLogBlocks } from '../../blocks/deploy-log.js';
import { deployStatusBlocks, stepOutputBlocks } from '../../blocks/deploy-status.js';
import { watchPlan } from '../canary/watch-plan.js';
import { gateMessageBlocks } from '../../blocks/gate-message.js';
import { codeVersion } from '../../blocks/format.js';
import { roleLabel, type Config } from '../core/config.js';
import { isFinal, type DeployRecord, type DeployStore, type LogEntry } from '../deploys/deploy-store.js';
import type { Logger } from '../core/logger.js';
import type { Delivery } from '../notify/delivery.js';
import { messageKeys } from '../notify/message-keys.js';
import type { DeployMetrics } from '../ops/ops.js';

/** Who opened their App Home lately (a sorted set by last open): their Home follows deploys starting and ending. */
export const homeViewersKey = (prefix: string) => `${prefix}:home:viewers`;
const HOME_VIEWERS_WITHIN_MS = 30 * 86_400_000;
const HOME_VIEWERS_MAX = 200;

/** Queued deploys show their exact place only this far back (see deployStatusBlocks); a start or finish re-renders only these. */
export const POSITIONS_SHOWN = 5;


/**
 * The environment's line: queued and running deploys in a sorted set scored by a per-environment sequence taken
 * when the deploy joins it (NX: its place never moves, and later joiners always come behind, so ranks are unique
 * and stable under concurrent requests); a finished one leaves. The rank comes back in the same call. Exceptions,
 * matching the queue: a rollback joins ahead of every waiting deploy (negative score, the newest rollback first like
 * BullMQ's lifo), and what runs moves to the very front.
 */
const PLACE = `
if ARGV[1] == 'in' or ARGV[1] == 'jump' or ARGV[1] == 'run' then
  if ARGV[1] == 'run' then
    redis.call('ZADD', KEYS[1], -1e15, ARGV[2])
  elseif not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
    local seq = redis.call('INCR', KEYS[2])
    redis.call('ZADD', KEYS[1], ARGV[1] == 'jump' and -seq or seq, ARGV[2])
  end
  return redis.call('ZRANK', KEYS[1], ARGV[2])
end
redis.call('ZREM', KEYS[1], ARGV[2])
return false`;

export class StatusMessenger {
  private teamUrl: string | undefined;
  /** Republishes these users' App Home (set in app.ts: a job on the delivery queue, deduplicated by `state`). */
  republishHome?: (users: string[], state: string) => Promise<void>;

  constructor(
    private readonly store: DeployStore,
    private readonly delivery: Delivery,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly metrics?: DeployMetrics,
  ) {}

  /** Where message links point (https://<team>.slack.com/); learnt once, in the background, never in a deploy's way. */
  setTeamUrl(url: string | undefined): void {
    this.teamUrl = url;
  }

  private lineKey(env: string): string {
    return `${this.prefix}:line:${env}`;
  }

  private dmKey(id: string): string {
    return `${this.prefix}:approval-dms:${id}`;
  }

  /** Keeps the environment's line in step with the record; returns its place (1 = running or next), 0 when not in line. */
  private async place(record: DeployRecord): Promise<number> {
    // What runs is first in line; a rollback jumps ahead of the deploys waiting (as its BullMQ job does: lifo),
    // never ahead of what runs.
    const how = record.status === 'running' ? 'run' : record.status !== 'queued' ? 'out' : record.kind === 'rollback' ? 'jump' : 'in';
    const line = this.lineKey(record.env);
    const rank = await this.redis.eval(PLACE, 2, line, `${line}:seq`, how, record.id);
    return typeof rank === 'number' ? rank + 1 : 0;
  }

  /** Queue position: 1 means next in line (or running); only this environment's deploys count. One Redis call. */
  async position(record: DeployRecord): Promise<number> {
    const place = await this.place(record);
    return record.status === 'queued' ? place : 0;
  }

  /** A link to a delivered message, when it has been posted and the workspace URL is known. */
  async link(key: string): Promise<string | undefined> {
    const where = this.teamUrl ? await this.delivery.tsOf(key) : undefined;
    return where && `${this.teamUrl}archives/${where.channel}/p${where.ts.replace('.', '')}`;
  }

  /**
   * Brings every live message of the deploy in line with its stored record: the status message (once queued),
   * the gate message and the approvers' DMs. Each is an upsert carrying the record's revision, so whichever
   * writer renders last, the newest state is what stays.
   */
  async sync(id: string): Promise<void> {
    const record = await this.store.get(id);
    if (!record) return;
    const position = await this.place(record);
    if (record.queuedAt !== undefined) {
      const env = this.config.environments.find((e) => e.name === record.env);
      const signoff = env?.postDeploySignoff;
      const { text, blocks } = deployStatusBlocks(record, {
        position: record.status === 'queued' ? position : 0,
        positionsShown: POSITIONS_SHOWN,
        signoff: signoff ? { label: signoff.label ?? roleLabel(this.config, signoff.role) } : undefined,
        watchPlan: (i) => (env ? watchPlan(env.steps[i]) : undefined),
      });
      await this.delivery.send({ key: messageKeys.status(id), channel: record.channel, text, blocks, mode: 'upsert', version: record.rev });
    }
    if (record.gates) await this.syncGateMessages(record);
    if (record.status === 'running' || isFinal(record.status)) await this.republishViewersHome(record);
  }

  /**
   * A deploy starting or ending changes every App Home's environments board: republish it for the people who
   * opened their Home lately (bounded), once per deploy and status however often the record is synced.
   */
  private async republishViewersHome(record: DeployRecord): Promise<void> {
    if (!this.republishHome) return;
    const first = await this.redis.set(`${this.prefix}:home:shown:${record.id}:${record.status}`, '1', 'EX', 86_400, 'NX');
    if (!first) return;
    await this.republishRecentHomes(`${record.id}-${record.status}`);
  }

  /** Republishes App Home for the people who opened it lately (bounded); `state` names what changed (publish dedupe). */
  async republishRecentHomes(state: string): Promise<void> {
    if (!this.republishHome) return;
    const users = await this.redis.zrevrangebyscore(homeViewersKey(this.prefix), '+inf', Date.now() - HOME_VIEWERS_WITHIN_MS, 'LIMIT', 0, HOME_VIEWERS_MAX);
    if (users.length) await this.republishHome(users, state);
  }

  /** The gate message and the approval DMs (kept as its own name: callers that changed only the gates use it). */
  async syncGate(id: string): Promise<void> {
    await this.sync(id);
  }

  private async syncGateMessages(record: DeployRecord): Promise<void> {
    const found = this.config.environments.find((e) => e.name === record.env);
    if (!found) return;
    // A release kind's gates replace the environment's; the message says which rules apply and why.
    const env = gateEnvironment(envForKind(this.config, found, record.release?.kind), record);
    const rules = record.release?.kind ? kindSummary(this.config, record.release.kind, record.release.type ? `from /${record.release.type}` : 'from --kind') : undefined;
    const roleName = (r: string) => roleLabel(this.config, r);
    const statusLink = record.status !== 'pending' ? await this.link(messageKeys.status(record.id)) : undefined;
    const { text, blocks } = gateMessageBlocks(record, env, roleName, { statusLink, rules });
    await this.delivery.send({ key: messageKeys.gate(record.id), channel: record.channel, text, blocks, mode: 'upsert', version: record.rev });
    // Whose Home shows this deploy as waiting: its approvers and its requester (bounded by the config, not the queue).
    const homeUsers = new Set([record.requestedBy, ...(env.approvals?.roles ?? []).flatMap((r) => this.config.roles[r]?.users ?? [])]);
    await this.republishHome?.([...homeUsers], `${record.id}-${createHash('sha1').update(text + JSON.stringify(blocks)).digest('hex').slice(0, 12)}`);
    const users = await this.redis.smembers(this.dmKey(record.id));
    if (users.length === 0) return;
    const gateLink = await this.link(messageKeys.gate(record.id));
    for (const user of users) {
      await this.delivery.send({ key: messageKeys.dm(record.id, user), channel: user, text: approvalDmText(record, user, roleName, { gateLink }), mode: 'upsert', version: record.rev });
    }
  }

  /** Sends each approver a DM asking for their sign-off; from then on it is edited with the deploy's state. */
  async askApprovers(record: DeployRecord, users: string[]): Promise<void> {
    if (users.length === 0) return;
    await this.redis.sadd(this.dmKey(record.id), ...users);
    await this.redis.expire(this.dmKey(record.id), 60 * 60 * 24 * 30);
    await this.syncGateMessages(record);
  }

  /** Called by the delivery worker once a message is posted: the record keeps its status and gate message ts. */
  async posted(key: string, where: { channel: string; ts: string }): Promise<void> {
    const m = /^deploy:([^:]+):(status|gate)$/.exec(key);
    if (!m?.[1]) return;
    const id = m[1];
    await this.store.update(id, (r) => {
      if (m[2] === 'status') {
        if (r.statusTs === where.ts) return false;
        r.statusTs = where.ts;
        r.channel = where.channel;
      } else {
        if (!r.gates || r.gates.gateTs === where.ts) return false;
        r.gates.gateTs = where.ts;
      }
    });
    // Now that it can be linked to, the messages that point at it can say where it is.
    await this.sync(id);
  }

  /** A post-deploy sign-off goes into the deploy's thread and the deploy-log channel. */
  async recordSignoff(record: DeployRecord, line: string): Promise<void> {
    await this.postInThread(record, 'signoff', { text: `:white_check_mark: ${line}`, blocks: [] });
    const channel = this.config.channels.deployLog;
    if (!channel) return;
    await this.delivery.send({ key: `${messageKeys.log(record.id)}:signoff`, channel, text: `:white_check_mark: Deploy #${record.id} (${codeVersion(record)} → ${record.env}): ${line}.` });
  }

  /**
   * After a start, finish or cancel the places in the line moved: re-renders the deploys whose shown place can
   * have changed — the first POSITIONS_SHOWN in line — so the cost does not grow with the queue.
   */
  async syncEnvironment(env: string): Promise<void> {
    const ids = await this.redis.zrange(this.lineKey(env), 0, POSITIONS_SHOWN - 1);
    // Different deploys' messages: rendered and enqueued side by side.
    await Promise.all(ids.map((id) => this.sync(id)));
  }

  /** A message in the thread of the deploy's status message (or, before there is one, its gate message). */
  async postInThread(record: DeployRecord, name: string, message: { text: string; blocks: KnownBlock[] }): Promise<void> {
    const parent = record.queuedAt !== undefined ? messageKeys.status(record.id) : messageKeys.gate(record.id);
    await this.delivery.send({ key: `deploy:${record.id}:${name}`, channel: record.channel, threadOf: parent, text: message.text, ...(message.blocks.length ? { blocks: message.blocks } : {}) });
  }

  async postStepOutput(id: string, stepIndex: number, output: string): Promise<void> {
    const record = await this.store.get(id);
    const step = record?.steps[stepIndex];
    if (!record || !step) return;
    const { text, blocks } = stepOutputBlocks(step, stepIndex, output);
    await this.delivery.send({ key: messageKeys.step(id, stepIndex, record.runs), channel: record.channel, threadOf: messageKeys.status(id), text, blocks });
  }

  /** Stores the log entry (once per deploy) and posts it to the deploy-log channel. */
  async recordLog(entry: LogEntry): Promise<void> {
    const first = await this.store.appendLog(entry);
    if (!first) return;
    this.metrics?.deploys.inc({ env: entry.env, status: entry.status, kind: entry.notes.some((n) => n.startsWith('rollback from')) ? 'rollback' : 'deploy' });
    if (entry.durationMs !== undefined) this.metrics?.duration.observe({ env: entry.env, status: entry.status }, entry.durationMs / 1000);
    const channel = this.config.channels.deployLog;
    if (!channel) return;
    await this.delivery.send({ key: messageKeys.log(entry.deployId), channel, ...deployLogBlocks(entry) });
  }
}
