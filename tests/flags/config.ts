// A config for the flag tests: dev / staging / production, production changed only by owners and approvers,
// release flags signed off in production, one OFREP key per environment.
export const FLAG_ENV = { OFREP_KEY_DEV: 'dev-key-0123456789', OFREP_KEY_PROD: 'prod-key-abcdefghij' };

export const FLAGS_YAML = `
roles:
  approvers: { users: [U0TARA, U0SAM] }
channels:
  deployLog: C0DEPLOYLOG
environments:
  - name: dev
    steps: [{ name: Build, run: [node, -e, ""] }]
  - name: staging
    aliases: [stage]
    steps: [{ name: Build, run: [node, -e, ""] }]
  - name: production
    aliases: [prod]
    channels: { stakeholders: [C0STAKE] }
    approvals: { required: 1, roles: [approvers] }
    steps: [{ name: Build, run: [node, -e, ""] }]
flags:
  types:
    release: { value: boolean, signoff: [production] }
    experiment: { value: boolean }
    kill-switch: { value: boolean }
    config: { value: json }
    limit: { value: number }
  changers: { production: [approvers] }
  apiKeys: { dev: OFREP_KEY_DEV, production: OFREP_KEY_PROD }
  staleAfter: 1s
`;
