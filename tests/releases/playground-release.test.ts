// The playground's demo repository and default config (shipmate.yml) let a newcomer run `/release minor` and read
// the notes: v1.2.0 from v1.1.0, the branch cut from main, the notes from the demo's conventional commits.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureDemoRepo } from '../../playground/demo-repo.js';
import { allText, CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

let bot: TestBot;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipmate-demo-'));
  ensureDemoRepo(join(dir, 'repo'));
  bot = await startTestBot({ configYaml: readFileSync('shipmate.yml', 'utf8'), redisUrl: (await startRedis()).url, env: { SHIPMATE_DEMO_REPO: join(dir, 'repo') } });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

it('/release minor on the demo repository drafts v1.2.0 and shows its notes in the thread', async () => {
  const res = await bot.command('/release', 'minor', 'U0DEMOALEX');
  expect(String(res.json.text)).toContain('started');
  const status = await eventually(() => bot.slack.messages(CHANNEL).find((m) => headerText(m).includes('v1.2.0')), 10_000, 'the release status message');
  const notes = await eventually(() => bot.slack.thread(CHANNEL, status.ts).find((m) => allText(m).includes('Draft release notes')), 10_000, 'the notes');
  expect(allText(notes)).toContain('New Features');
  expect(allText(notes)).toContain('canary rollout at 5%, 25% and 100%');
  expect(allText(notes)).toContain('*api:* return 404 for unknown flags');
  expect(allText(notes)).toContain('Alex Morgan, Sam Okafor');
  // it goes on to dev by itself
  await eventually(async () => (await bot.shipmate.deps.releases.store.latest())?.steps['deploy:dev']?.deployId, 10_000, 'the dev deploy');
});
