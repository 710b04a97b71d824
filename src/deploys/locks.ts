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

/** How long a rollback's "I locked" marker is kept: far beyond any resume of its run. */
const ROLLBACK_MARK_S = 30 * 86_400;

// KEYS: the lock, the rollback's marker; ARGV: the lock JSON, marker TTL. Returns {1, lock} when this call locked,
// {0, lock-as-first-set} when the rollback had locked already.
const ROLLBACK_LOCK = `
local mark = redis.call('GET', KEYS[2])
if mark then return {0, mark} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
return {1, ARGV[1]}
`;

const lockNotice = (lock: EnvLock) => `:lock: *${escapeMrkdwn(lock.env)}* is locked: ${lockText(lock)}. Deploys there are refused until someone runs \`/deploys unlock ${lock.env}\`.`;

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

  /** Locks `env` for a person; refused when a lock stands (it names who and why). */
  async lock(env: EnvironmentConfig, by: string, reason: string): Promise<EnvLock> {
    const lock: EnvLock = { env: env.name, by, reason, at: this.d.now() };
    const set = await this.d.redis.set(this.key(env.name), JSON.stringify(lock), 'NX');
    if (set !== 'OK') {
      const standing = await this.get(env.name);
      throw new ConflictError(`${env.name} is already locked${standing ? `: ${lockText(standing)}` : ''}.`);
    }
    await audit(this.d.redis, this.d.prefix, { action: 'env.locked', user: by, env: env.name, detail: reason }, lock.at);
    this.d.log.info({ env: env.name, user: by }, 'environment locked');
    await this.announce(env, `lock:${env.name}:${lock.at}`, lockNotice(lock));
    return lock;
  }

  /**
   * The lock a successful rollback leaves: it takes the place of any earlier one (its reason is the news). The
   * worker asserts it before the record says succeeded, and a run resumed after a crash asserts it again, so it is
   * idempotent per rollback: the first assertion sets the lock and a marker in one Lua step; a later one (the marker
   * is there) changes nothing, even if a person has unlocked since. The notice goes out under a key of the rollback's
   * own, so a repeat after a crash between the lock and its notice posts it once (delivery dedupes by key).
   */
  async lockAfterRollback(env: EnvironmentConfig, rollback: { id: string; requestedBy: string; reason?: string; rollbackFrom?: string }): Promise<EnvLock> {
    const wanted: EnvLock = { env: env.name, by: rollback.requestedBy, reason: rollback.reason ?? `rolled back from ${rollback.rollbackFrom ?? 'the previous version'}`, at: this.d.now(), deployId: rollback.id };
    const [fresh, raw] = (await this.d.redis.eval(ROLLBACK_LOCK, 2, this.key(env.name), this.key(env.name, 'rollback', rollback.id), JSON.stringify(wanted), String(ROLLBACK_MARK_S))) as [number, string];
    const lock = JSON.parse(raw) as EnvLock;
    if (fresh === 1) {
      await audit(this.d.redis, this.d.prefix, { action: 'env.locked', user: lock.by, env: env.name, detail: lock.reason, deployId: rollback.id }, lock.at);
      this.d.log.info({ env: env.name, user: lock.by, deployId: rollback.id }, 'environment locked after the rollback');
    } else this.d.log.info({ env: env.name, deployId: rollback.id }, 'rollback lock asserted already (resumed run)');
    await this.announce(env, `lock:${env.name}:rollback:${rollback.id}`, lockNotice(lock));
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
