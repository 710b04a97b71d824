// An automatic checklist item backed by an HTTP check (e.g. a CI status endpoint for the ref).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allText, deployIdFrom, eventually, headerText, startRedis, startTestBot, stopRedis, type TestBot } from '../helpers/harness.js';

let server: Server;
let bot: TestBot;
const green = new Set(['v1']);

beforeAll(async () => {
  server = createServer((req, res) => {
    const ref = decodeURIComponent(req.url?.split('/').pop() ?? '');
    res.writeHead(green.has(ref) ? 200 : 409).end(green.has(ref) ? 'green' : 'red');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const yaml = `
environments:
  - name: prod
    checklist:
      - section: CI
        items:
          - { id: ci, text: CI green for this ref, check: { http: "\${CI_URL}/status/{{ref}}" } }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('ok')"] }
`;
  bot = await startTestBot({ configYaml: yaml, redisUrl: (await startRedis()).url, env: { CI_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } });
});
afterAll(async () => {
  await bot?.stop();
  await stopRedis();
  await new Promise<void>((ok) => server.close(() => ok()));
});

describe('automatic HTTP checks', () => {
  it('tick the item when the endpoint answers as expected, and the deploy starts by itself', async () => {
    const id = deployIdFrom((await bot.command('/deploy', 'prod v1', 'U0ALICE')).json.text);
    await eventually(async () => (await bot.shipmate.deps.store.get(id))?.status === 'succeeded', 10_000, 'the deploy to run');
  });

  it('leave it unticked with the answer it got, until a re-run passes', async () => {
    const id = deployIdFrom((await bot.command('/deploy', 'prod v2', 'U0ALICE')).json.text);
    const gate = await eventually(() => {
      const m = bot.slack.messages().find((x) => headerText(x).includes(`Gates for deploy #${id} `));
      return m && allText(m).includes('check failed') ? m : undefined;
    });
    expect(allText(gate)).toMatch(/check failed: GET http:\/\/127\.0\.0\.1:\d+\/status\/v2 → 409, expected 200: red/);
    green.add('v2');
    await bot.click(gate, 'shipmate_gate_rerun_checks', 'U0ALICE');
    await eventually(async () => (await bot.shipmate.deps.store.get(id))?.status === 'succeeded', 10_000, 'the deploy to run after the re-run');
  });
});
