// A migration asked for outside its maintenance window waits for one sign-off from the override role, through the
// deploy gates (gate message, buttons, DMs, audit). The gates read their rules from the environment; for such a
// record this is the environment as the gates must see it: no checklist, one approval from that role.
import type { EnvironmentConfig } from '../core/config.js';

export function gateEnvironment(env: EnvironmentConfig, record: { kind?: string; migration?: { override?: { role: string } } }): EnvironmentConfig {
  const role = record.kind === 'migrate' ? record.migration?.override?.role : undefined;
  if (!role) return env;
  return {
    ...env,
    checklist: [],
    postDeploySignoff: undefined,
    approvals: { required: 1, roles: [role], distinctRoles: false, allowRequester: false, requireRoles: [], sensitiveRequires: [], notify: 'dm' },
  };
}
