// GitHub deployment updates are fired and forgotten by requests and workers: a Redis read that fails (the request
// connection fails fast under load) must end as a warning, never as an unhandled rejection that stops Shipmate.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { DeployStore } from '../../src/deploys/deploy-store.js';
import { GithubDeployments } from '../../src/github/deployments.js';
import { startRedis, stopRedis } from '../helpers/harness.js';

let url: string;
beforeAll(async () => {
  url = (await startRedis()).url;
});
afterAll(async () => {
  await stopRedis();
});

describe('GitHub deployments under a failing Redis', () => {
  it('a queued/started/finished update whose reads fail is logged, not left unhandled', async () => {
    const redis = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream });
    const config = parseConfig('environments: [{ name: dev, steps: [{ name: a, run: [node, -e, "1"] }] }]', 't.yml', {});
    const gh = new GithubDeployments({ store: new DeployStore(redis, 'faults'), config, log });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Never connected, no offline queue: every command rejects at once, as a timed-out one would.
      await expect(gh.queued('1')).resolves.toBeUndefined();
      await expect(gh.started('1', undefined)).resolves.toBeUndefined();
      await new Promise((ok) => setTimeout(ok, 50));
      expect(unhandled).toEqual([]);
      expect(lines.join('')).toContain('GitHub deployment not updated');
    } finally {
      process.off('unhandledRejection', onUnhandled);
      redis.disconnect();
    }
  });
});
