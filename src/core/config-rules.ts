// Cross-field rules of the config that no single field shows: how many approvals could ever be given, and
// promotion chains that loop. config.ts reports what these find with the path and why.

/** Enough of an approvals block and of the roles to count who could sign. */
export interface ApprovalRules {
  required: number;
  roles: readonly string[];
  distinctRoles: boolean;
}
export type RoleMembers = Readonly<Record<string, { users: readonly string[]; groups: readonly string[] }>>;

/**
 * Why `rules.required` approvals can never be reached, or undefined. With distinct roles there must be that many
 * roles; when every role lists its users (no Slack groups, whose members are known only at run time) there must
 * also be that many people: one approval per person, and per role when distinct (a matching of roles to people).
 */
export function approvalsProblem(rules: ApprovalRules, roles: RoleMembers): string | undefined {
  const listed = [...new Set(rules.roles)];
  if (rules.distinctRoles && rules.required > listed.length) {
    return `${rules.required} approvals from different roles can never be given: approvals.roles lists ${listed.length}`;
  }
  const defined = listed.map((r) => (Object.hasOwn(roles, r) ? roles[r] : undefined));
  if (defined.some((role) => !role || role.groups.length > 0)) return undefined;
  const members = (r: string) => roles[r]?.users ?? [];
  const most = rules.distinctRoles ? largestMatching(listed, members) : new Set(listed.flatMap(members)).size;
  if (rules.required <= most) return undefined;
  return `${rules.required} approvals can never be given: only ${most} ${most === 1 ? 'person' : 'people'} in ${listed.join(', ')} could approve${rules.distinctRoles ? ', one role each' : ''}`;
}

/** How many roles can each get a different person (Kuhn's augmenting paths; config-sized inputs). */
function largestMatching(roles: readonly string[], members: (role: string) => readonly string[]): number {
  const roleOf = new Map<string, string>();
  const place = (role: string, tried: Set<string>): boolean =>
    members(role).some((user) => {
      if (tried.has(user)) return false;
      tried.add(user);
      const other = roleOf.get(user);
      if (other !== undefined && !place(other, tried)) return false;
      roleOf.set(user, role);
      return true;
    });
  return roles.filter((role) => place(role, new Set())).length;
}

/** The promotion chain from `start` back to itself (["a", "b", "a"]), or undefined when it ends. */
export function promotionCycle(environments: ReadonlyArray<{ name: string; requires?: { succeededOn: string } }>, start: string): string[] | undefined {
  const chain = [start];
  let current = start;
  for (let i = 0; i < environments.length; i++) {
    const next = environments.find((e) => e.name === current)?.requires?.succeededOn;
    if (next === undefined) return undefined;
    chain.push(next);
    if (next === start) return chain;
    current = next;
  }
  return undefined;
}
