// The idempotency keys of a deploy's messages (one Slack message per key, see delivery.ts), shared by all who send or link them.
export const messageKeys = {
  status: (id: string) => `deploy:${id}:status`,
  gate: (id: string) => `deploy:${id}:gate`,
  dm: (id: string, user: string) => `deploy:${id}:dm:${user}`,
  step: (id: string, index: number, run: number) => `deploy:${id}:step:${index}${run > 1 ? `:run${run}` : ''}`,
  log: (id: string) => `log:${id}`,
};
