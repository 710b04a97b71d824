// The environment lease: while a canary or monitor is parked between evaluations (its deploy gives its worker
// back and waits as a delayed job in the `watch` queue), the environment's change queue must stay closed to every
// other change. The lease is a Redis key naming the deploy, written in one script with the queue's global
// concurrency set to 0 (BullMQ then starts none of its jobs; they keep their order, a rollback's `lifo` place
// included). Released in one script with concurrency 1 again when the deploy ends. A lease is stale when its deploy
// has ended, or when nothing can ever run it again (no live wake job): the sweep releases those.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { isFinal, type DeployStore } from '../src/deploys/deploy-store.js';
import { watchJobId, type DeployJobData, type DeployQueues } from './queues.js';

export const leaseKey = (prefix: string, env: string) => `${prefix}:env-lease:${env}`;

// KEYS: lease, queue meta. ARGV: deployId.
const HOLD = `redis.call('SET', KEYS[1], ARGV[1]) redis.call('HSET', KEYS[2], 'concurrency', 0) return 1`;
// KEYS: lease, queue meta, wait list, marker. ARGV: deployId ('' = whoever holds it).
// The marker wakes workers blocked on the queue at once (what BullMQ's own scripts add when a job becomes available).
const RELEASE = `
local owner = redis.call('GET', KEYS[1])
if not owner or (ARGV[1] ~= '' and owner ~= ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'concurrency', 1)
if redis.call('LLEN', KEYS[3]) > 0 then redis.call('ZADD', KEYS[4], 0, '0') end
return 1`;
// KEYS: lease, queue meta. At start-up: concurrency 0 while a lease is held, 1 otherwise (never opening a leased queue).
const INIT = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[2], 'concurrency', 0) else redis.call('HSET', KEYS[2], 'concurrency', 1) end return 1`;

export class EnvLeases {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly queues: Pick<DeployQueues, 'queue' | 'watch'>,
  ) {}

  private q(env: string): Queue<DeployJobData> {
    return this.queues.queue(env);
  }

  /** Takes the environment for `deployId` (called by its running change job, so no other change of it runs now). */
  async hold(env: string, deployId: string): Promise<void> {
    await this.redis.eval(HOLD, 2, leaseKey(this.prefix, env), this.q(env).toKey('meta'), deployId);
  }

  /** Gives the environment back if `deployId` holds it (any holder when omitted); true when a lease was released. */
  async release(env: string, deployId?: string): Promise<boolean> {
    const q = this.q(env);
    return (await this.redis.eval(RELEASE, 4, leaseKey(this.prefix, env), q.toKey('meta'), q.toKey('wait'), q.toKey('marker'), deployId ?? '')) === 1;
  }

  owner(env: string): Promise<string | null> {
    return this.redis.get(leaseKey(this.prefix, env));
  }

  /** Sets each queue's global concurrency from its lease (replaces a plain setGlobalConcurrency(1) at start-up). */
  async init(envs: readonly string[]): Promise<void> {
    await Promise.all(envs.map((env) => this.redis.eval(INIT, 2, leaseKey(this.prefix, env), this.q(env).toKey('meta'))));
  }

  private readonly suspects = new Map<string, string>();

  /**
   * Releases stale leases: the deploy ended (or is gone) — released at once; no wake job that could run it — released
   * only when two sweeps in a row saw it so (a park writes the lease just before it adds its wake job). Returns the
   * environments given back.
   */
  async sweep(envs: readonly string[], store: DeployStore): Promise<string[]> {
    const freed: string[] = [];
    // One read for every environment: a sweep with no lease held (the usual case) costs one round trip.
    const owners = await this.redis.mget(envs.map((env) => leaseKey(this.prefix, env)));
    for (const [i, env] of envs.entries()) {
      const owner = owners[i];
      if (!owner) {
        this.suspects.delete(env);
        continue;
      }
      const record = await store.get(owner);
      let stale = !record || isFinal(record.status);
      if (!stale) {
        const job = await this.queues.watch.getJob(watchJobId(owner));
        const state = job ? await job.getState() : 'unknown';
        const lost = !job || state === 'completed' || state === 'failed' || state === 'unknown';
        stale = lost && this.suspects.get(env) === owner;
        if (lost) this.suspects.set(env, owner);
        else this.suspects.delete(env);
      }
      if (stale && (await this.release(env, owner))) {
        this.suspects.delete(env);
        freed.push(env);
      }
    }
    return freed;
  }
}
