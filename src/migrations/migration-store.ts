// Which migrations are applied on which environment, when and by whom: one Redis hash per environment, written by
// the worker when a migrate job (or its rollback) succeeds. The job itself is a deploy record of kind 'migrate'.
import type { Redis } from 'ioredis';

export interface MigrationState {
  name: string;
  /** 'rolledBack': its paired rollback ran after it. */
  state: 'applied' | 'rolledBack';
  at: number;
  by: string;
  deployId: string;
}

export class MigrationStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(env: string): string {
    return `${this.prefix}:migrations:${env}`;
  }

  async get(env: string, name: string): Promise<MigrationState | undefined> {
    const raw = await this.redis.hget(this.key(env), name);
    return raw ? (JSON.parse(raw) as MigrationState) : undefined;
  }

  async isApplied(env: string, name: string): Promise<boolean> {
    return (await this.get(env, name))?.state === 'applied';
  }

  async record(env: string, state: MigrationState): Promise<void> {
    await this.redis.hset(this.key(env), state.name, JSON.stringify(state));
  }

  /** Every migration this environment has seen, oldest name first (names carry their date). */
  async all(env: string): Promise<MigrationState[]> {
    const all = await this.redis.hgetall(this.key(env));
    return Object.values(all).map((r) => JSON.parse(r) as MigrationState).sort((a, b) => a.name.localeCompare(b.name));
  }
}
