// Environment locks: `/deploys lock prod "reason"`, and the lock every successful rollback leaves behind. A lock
// names who, why and since when; while it stands, deploys to the environment are refused (rollbacks pass: they are
// the way out; hotfixes pass where `lock.allowHotfix` says so). People refused can ask to be told when it is free:
// one DM each when the lock is lifted, through the delivery path. Lock and unlock are audited and said in the
// deploy-log and stakeholder channels.
import type { KnownBlock } from '@slack/types';
import { lockRefusalBlocks, lockText } from '../../blocks/locks.js';
import { escapeMrkdwn } from '../../blocks/format.js';
import { roleLabel, type EnvironmentConfig } from '../core/config.js';
import { ConflictError, NotAuthorizedError } from '../core/errors.js';
import type { ServiceDeps } from '../deps.js';
import { audit, type ChangeKind } from './deploy-store.js';

export interface EnvLock {
  env: string;
  /** Who locked it (a Slack user id). */
  by: string;
  reason: string;
  at: number;
  /** Set when a rollback's success locked it. */
  deployId?: string;
}

/** A deploy refused because its environment is locked; the reply carries the *Tell me when it's free* button. */
export class LockedError extends ConflictError {
  constructor(message: string, readonly blocks: KnownBlock[]) {
    super(message);
    this.name = 'LockedError';
  }
}

type LockDeps = Pick<ServiceDeps, 'config' | 'redis' | 'prefix' | 'delivery' | 'roles' | 'log' | 'now'>;

export class EnvLocks {
  constructor(private readonly d: LockDeps) {}

  private key(env: string, ...rest: string[]): string {
    return [this.d.prefix, 'env', env, 'lock', ...rest].join(':');
  }

  async get(env: string): Promise<EnvLock | undefined> {
    const raw = await this.d.redis.get(this.key(env));
    return raw ? (JSON.parse(raw) as EnvLock) : undefined;
  }

  async all(): Promise<Map<string, EnvLock>> {
    const names = this.d.config.environments.map((e) => e.name);
    const raws = await this.d.redis.mget(names.map((n) => this.key(n)));
    return new Map(raws.flatMap((r, i) => (r ? [[names[i] as string, JSON.parse(r) as EnvLock]] : [])));
  }

  /** Whether a change of this kind may go to `env` now; throws LockedError (with the button) when not. */
  async checkOpen(env: EnvironmentConfig, kind: ChangeKind): Promise<void> {
    if (kind === 'rollback' || (kind === 'hotfix' && env.lock.allowHotfix)) return;
    const lock = await this.get(env.name);
    if (!lock) return;
    const message = `${env.name} is locked: ${lockText(lock)}. Nothing was queued.${env.lock.allowHotfix ? ' Hotfixes may still go out.' : ''} Whoever may deploy there can lift it with \`/deploys unlock ${env.name}\`.`;
    throw new LockedError(message, lockRefusalBlocks(env.name, `:lock: ${escapeMrkdwn(message)}`));
  }

  /** Who may lock and unlock: the environment's deployers and approvers (everyone when it names neither). */
  async checkMayLock(env: EnvironmentConfig, user: string, what: 'lock' | 'unlock'): Promise<void> {
    const roles = [...env.deployers, ...(env.approvals?.roles ?? [])];
    if (roles.length === 0 || (await this.d.roles.hasAnyRole(user, roles))) return;
    await audit(this.d.redis, this.d.prefix, { action: `env.${what}-refused`, user, env: env.name }, this.d.now());
    throw new NotAuthorizedError(`You may not ${what} ${env.name}: that needs the ${[...new Set(roles)].map((r) => roleLabel(this.d.config, r)).join(' or ')} role.`);
  }

  /**
   * Locks `env`. A person's lock is refused when one stands (it names who and why); a rollback's lock (`replace`)
   * takes the place of any earlier one, since its reason is the news.
   */
  async lock(env: EnvironmentConfig, by: string, reason: string, opts: { deployId?: string; replace?: boolean } = {}): Promise<EnvLock> {
    const lock: EnvLock = { env: env.name, by, reason, at: this.d.now(), ...(opts.deployId ? { deployId: opts.deployId } : {}) };
    const set = opts.replace
      ? await this.d.redis.set(this.key(env.name), JSON.stringify(lock))
      : await this.d.redis.set(this.key(env.name), JSON.stringify(lock), 'NX');
    if (set !== 'OK') {
      const standing = await this.get(env.name);
      throw new ConflictError(`${env.name} is already locked${standing ? `: ${lockText(standing)}` : ''}.`);
    }
    await audit(this.d.redis, this.d.prefix, { action: 'env.locked', user: by, env: env.name, detail: reason, ...(opts.deployId ? { deployId: opts.deployId } : {}) }, lock.at);
    this.d.log.info({ env: env.name, user: by, deployId: opts.deployId }, 'environment locked');
    await this.announce(env, `lock:${env.name}:${lock.at}`, `:lock: *${escapeMrkdwn(env.name)}* is locked: ${lockText(lock)}. Deploys there are refused until someone runs \`/deploys unlock ${env.name}\`.`);
    return lock;
  }

  /** Lifts the lock; everyone who asked to be told gets one DM. The lock and its watchers are taken in one step. */
  async unlock(env: EnvironmentConfig, by: string): Promise<EnvLock> {
    const [[, raw], , [, watchers]] = (await this.d.redis.multi().get(this.key(env.name)).del(this.key(env.name)).smembers(this.key(env.name, 'watchers')).del(this.key(env.name, 'watchers')).exec()) as [[null, string | null], unknown, [null, string[]], unknown];
    if (!raw) throw new ConflictError(`${env.name} is not locked; there is nothing to unlock.`);
    const lock = JSON.parse(raw) as EnvLock;
    const at = this.d.now();
    await audit(this.d.redis, this.d.prefix, { action: 'env.unlocked', user: by, env: env.name, detail: lock.reason }, at);
    this.d.log.info({ env: env.name, user: by, watchers: watchers.length }, 'environment unlocked');
    await this.announce(env, `unlock:${env.name}:${lock.at}`, `:unlock: <@${by}> unlocked *${escapeMrkdwn(env.name)}* (it was locked by <@${lock.by}>: ${escapeMrkdwn(lock.reason)}). Deploys may go there again.`);
    await Promise.all(watchers.map((user) => this.d.delivery.send({
      key: `unlock:${env.name}:${lock.at}:${user}`, channel: user,
      text: `:unlock: *${env.name}* is free again: <@${by}> lifted the lock (${escapeMrkdwn(lock.reason)}). You asked to be told.`,
    })));
    return lock;
  }

  /** Adds `user` to the people told when `env`'s lock is lifted; false when they were on the list already. */
  async watch(env: string, user: string): Promise<boolean> {
    const key = this.key(env, 'watchers');
    const [[, added]] = (await this.d.redis.multi().sadd(key, user).expire(key, 90 * 86_400).exec()) as [[null, number], unknown];
    return added === 1;
  }

  private async announce(env: EnvironmentConfig, key: string, text: string): Promise<void> {
    const channels = new Set([...(this.d.config.channels.deployLog ? [this.d.config.channels.deployLog] : []), ...env.channels.stakeholders]);
    await Promise.all([...channels].map((channel) => this.d.delivery.send({ key: `${key}:${channel}`, channel, text })));
  }
}
