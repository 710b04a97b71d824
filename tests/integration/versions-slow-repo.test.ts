// A repository that does not answer within the command's deadline: /deploy is refused clearly and nothing is
// queued — the ack never waits on git, and a late answer never creates a deploy afterwards.
import { beforeEach, describe, expect, it } from 'vitest';
import type { RefResolver } from '../../src/versions/resolver.js';
import { type TestBot, useTestBot } from '../helpers/harness.js';

let answer: ((sha: string) => void) | undefined;
/** Answers `resolve` only when the test says so. */
const stalled: RefResolver = {
  resolve: (ref) => new Promise((ok) => (answer = (sha) => ok({ ref, sha }))),
  suggestions: async () => [],
  commitsBetween: async () => [],
  distance: async () => undefined,
};

const useBot = useTestBot({
  configYaml: `
repository: https://git.example.com/team/app.git
environments:
  - name: staging
    steps:
      - { name: Deploy, run: [node, -e, "console.log(process.argv[1])", "{{sha}}"] }
`,
  resolvers: () => stalled,
});
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

describe('a slow repository', () => {
  it('is refused within the ack, and an answer that comes later queues nothing', async () => {
    const started = Date.now();
    const res = await bot.command('/deploy', 'staging main', 'U0ALICE');
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(res.json.text).toContain('Looking up `main` in https://git.example.com/team/app.git took too long, so nothing was queued');
    answer?.('a'.repeat(40));
    await new Promise((ok) => setTimeout(ok, 300));
    expect(await bot.shipmate.deps.store.active()).toEqual([]);
    expect(await bot.shipmate.deps.redis.get(`${bot.prefix}:seq:deploy`)).toBeNull();
  });
});
