// Who holds which role: Slack user ids from config, plus members of Slack user groups (cached).
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Config, EnvironmentConfig } from '../core/config.js';
import { ConflictError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

const GROUP_TTL_MS = 5 * 60_000;
/** How long a request waits for a user group never loaded yet, so its ack still goes out in time. */
const COLD_WAIT_MS = 400;

/** A role that depends on a user group whose members Shipmate could not load yet: no answer either way. */
export class MembershipUnknownError extends ConflictError {
  constructor(readonly groups: string[]) {
    super('I couldn’t check your user-group membership yet (Slack is slow or rate-limiting Shipmate); nothing was created — try again in a minute.');
    this.name = 'MembershipUnknownError';
  }
}

export class RoleDirectory {
  private groups = new Map<string, { users: Set<string>; at: number }>();
  /** One lookup per group at a time, shared by every request waiting for it. */
  private loading = new Map<string, Promise<Set<string> | undefined>>();

  constructor(
    private readonly config: Config,
    private readonly client: WebClient,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Every role the user holds (of `wanted`, default all). Never waits long on Slack: a group whose members
   * were never loaded is waited for at most COLD_WAIT_MS. When the user holds none of `wanted` and the
   * answer hangs on such a group, it throws MembershipUnknownError rather than guess "no".
   */
  async rolesOf(user: string, wanted: readonly string[] = Object.keys(this.config.roles)): Promise<Set<string>> {
    const roles = wanted.map((name) => [name, this.config.roles[name]] as const).filter((e): e is [string, NonNullable<(typeof e)[1]>] => !!e[1]);
    const groups = [...new Set(roles.filter(([, r]) => !r.users.includes(user)).flatMap(([, r]) => r.groups))];
    const members = new Map(await Promise.all(groups.map(async (g) => [g, await this.groupMembers(g)] as const)));
    const held = new Set(roles.filter(([, r]) => r.users.includes(user) || r.groups.some((g) => members.get(g)?.has(user))).map(([name]) => name));
    const unknown = groups.filter((g) => !members.get(g));
    if (held.size === 0 && unknown.length) {
      this.log.warn({ user, groups: unknown }, 'role check refused: user group members not loaded yet');
      throw new MembershipUnknownError(unknown);
    }
    return held;
  }

  async hasAnyRole(user: string, roles: readonly string[]): Promise<boolean> {
    if (roles.length === 0) return true;
    return (await this.rolesOf(user, roles)).size > 0;
  }

  async mayDeploy(env: EnvironmentConfig, user: string): Promise<boolean> {
    return this.hasAnyRole(user, env.deployers);
  }

  /** Loads every configured group's members (at start-up), so requests find them cached. */
  async warm(): Promise<void> {
    const groups = new Set(Object.values(this.config.roles).flatMap((r) => r.groups));
    await Promise.all([...groups].map((g) => this.load(g)));
  }

  /**
   * Members of a user group, or undefined when they were never loaded and do not arrive within
   * COLD_WAIT_MS (the lookup goes on in the background and fills the cache). A cached answer is used even
   * when stale and refreshed in the background, so a request never waits on Slack for a group it knows.
   */
  private async groupMembers(group: string): Promise<Set<string> | undefined> {
    const cached = this.groups.get(group);
    if (cached) {
      if (this.now() - cached.at >= GROUP_TTL_MS) void this.load(group);
      return cached.users;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<undefined>((ok) => (timer = setTimeout(() => ok(undefined), COLD_WAIT_MS)));
    try {
      return await Promise.race([this.load(group), gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Looks the group up unless a lookup is already under way; resolves undefined when it fails and nothing is cached. */
  private load(group: string): Promise<Set<string> | undefined> {
    const running = this.loading.get(group);
    if (running) return running;
    const lookup = this.fetchGroup(group).finally(() => this.loading.delete(group));
    this.loading.set(group, lookup);
    return lookup;
  }

  private async fetchGroup(group: string): Promise<Set<string> | undefined> {
    try {
      const res = await this.client.usergroups.users.list({ usergroup: group });
      const users = new Set(res.users ?? []);
      this.groups.set(group, { users, at: this.now() });
      return users;
    } catch (err) {
      this.log.warn({ group, err: (err as Error).message }, 'user group lookup failed');
      const cached = this.groups.get(group)?.users;
      // Slack answered, and the answer is no (no such group, missing scope): nobody holds the role through it
      // for now (not cached: the next request asks again). Rate limits, timeouts and outages leave it unknown.
      return cached ?? ((err as { code?: string }).code === ErrorCode.PlatformError ? new Set() : undefined);
    }
  }
}
