// Who holds which role: Slack user ids from config, plus members of Slack user groups (cached).
import type { WebClient } from '@slack/web-api';
import type { Config, EnvironmentConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';

const GROUP_TTL_MS = 5 * 60_000;

export class RoleDirectory {
  private groups = new Map<string, { users: Set<string>; at: number }>();
  private refreshing = new Set<string>();

  constructor(
    private readonly config: Config,
    private readonly client: WebClient,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every role the user holds. Group lookups are cached; a failed lookup counts as "not a member". */
  async rolesOf(user: string): Promise<Set<string>> {
    const held = new Set<string>();
    for (const [name, role] of Object.entries(this.config.roles)) {
      if (role.users.includes(user)) held.add(name);
      else {
        for (const group of role.groups) {
          if ((await this.groupMembers(group)).has(user)) {
            held.add(name);
            break;
          }
        }
      }
    }
    return held;
  }

  async hasAnyRole(user: string, roles: readonly string[]): Promise<boolean> {
    if (roles.length === 0) return true;
    const held = await this.rolesOf(user);
    return roles.some((r) => held.has(r));
  }

  async mayDeploy(env: EnvironmentConfig, user: string): Promise<boolean> {
    return this.hasAnyRole(user, env.deployers);
  }

  /** Loads every configured group's members (at start-up), so requests find them cached. */
  async warm(): Promise<void> {
    const groups = new Set(Object.values(this.config.roles).flatMap((r) => r.groups));
    await Promise.all([...groups].map((g) => this.fetchGroup(g)));
  }

  /**
   * Members of a user group. A cached answer is used even when stale and refreshed in the background, so a
   * slash command's ack never waits on Slack; only a group never seen before is looked up in the request.
   */
  private async groupMembers(group: string): Promise<Set<string>> {
    const cached = this.groups.get(group);
    if (cached) {
      if (this.now() - cached.at >= GROUP_TTL_MS && !this.refreshing.has(group)) {
        this.refreshing.add(group);
        void this.fetchGroup(group).finally(() => this.refreshing.delete(group));
      }
      return cached.users;
    }
    return this.fetchGroup(group);
  }

  private async fetchGroup(group: string): Promise<Set<string>> {
    try {
      const res = await this.client.usergroups.users.list({ usergroup: group });
      const users = new Set(res.users ?? []);
      this.groups.set(group, { users, at: this.now() });
      return users;
    } catch (err) {
      this.log.warn({ group, err: (err as Error).message }, 'user group lookup failed');
      return this.groups.get(group)?.users ?? new Set();
    }
  }
}
