// Slack down during a canary's hold: the watch goes by the metrics alone (a real Prometheus) — a healthy canary
// still promotes through every phase, a breaching one still rolls back, an inconclusive one still pauses — and
// once Slack answers again every message arrives, each once: the final status messages, the step output, the question.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryPrometheus } from '../../src/canary/prometheus.js';
import { allText, CHANNEL, eventually, headerText, startRedis, startTestBot, stopRedis, waitForEnd, type TestBot } from '../helpers/harness.js';
import { startPrometheus, startTarget, type MetricsTarget, type PrometheusServer } from './prometheus-server.js';

const marks = mkdtempSync(join(tmpdir(), 'shipmate-canary-slack-'));
const ERR = `{ name: error rate, query: 'app_error_ratio{svc="{{env}}",track="{{track}}"}', max: 0.01, for: 1.5s, unit: percent }`;
const env = (name: string, phases: string, prom: string) => `
  - name: ${name}
    deployers: [deployers]
    steps:
      - name: Canary
        canary:
          prometheus: ${prom}
          interval: 0.5s
          setWeight: { run: [sh, -c, 'echo "weight $1" >> ${marks}/$2.log', sh, '{{weight}}', '{{env}}'] }
          abort: { run: [sh, -c, 'echo "abort" >> ${marks}/$1.log', sh, '{{env}}'] }
          phases: ${phases}
          metrics: [${ERR}]`;
const yaml = (prom: string) => `
roles:
  deployers: { users: [U0ALICE, U0BOB] }
environments:${env('promoting', '[{ weight: 5, hold: 3s }, { weight: 50, hold: 1s }, { weight: 100 }]', prom)}${env('breaching', '[{ weight: 5, hold: 30s }, { weight: 100 }]', prom)}${env('pausing', '[{ weight: 5, hold: 0.5s }, { weight: 100 }]', 'http://127.0.0.1:9')}
`;

let target: MetricsTarget;
let prom: PrometheusServer;
let bot: TestBot;

const lines = (name: string) => (existsSync(join(marks, `${name}.log`)) ? readFileSync(join(marks, `${name}.log`), 'utf8').trim().split('\n') : []);

beforeAll(async () => {
  target = await startTarget();
  const [redis, p] = await Promise.all([startRedis(), startPrometheus(target.port)]);
  prom = p;
  bot = await startTestBot({ configYaml: yaml(prom.url), redisUrl: redis.url, delivery: { timeoutMs: 400, backoffMs: 100, maxBackoffMs: 500 } });
  for (const svc of ['promoting', 'breaching']) for (const t of ['canary', 'stable'] as const) target.set(svc, t, { errors: 0.002, latency: 0.1 });
  await eventually(async () => (await queryPrometheus(prom.url, 'count(app_error_ratio{svc=~"promoting|breaching"})')).kind === 'value', 10_000, 'a scrape');
}, 30_000);
afterAll(async () => {
  await bot?.stop();
  await prom?.stop();
  await target?.close();
  await stopRedis();
}, 20_000);

it('promotes or rolls back on the metrics while Slack is down, and delivers every message once after', async () => {
  const ids: Record<string, string> = {};
  for (const name of ['promoting', 'breaching']) ids[name] = /#(\d+)/.exec((await bot.command('/deploy', `${name} v2`, 'U0ALICE')).json.text ?? '')?.[1] ?? '';
  await eventually(() => ['promoting', 'breaching'].every((n) => lines(n).includes('weight 5') && bot.statusMessage(ids[n]!)), 10_000, 'both canaries in their first hold, shown');

  // Slack goes down: every Web API call answers 500 until it is back.
  bot.slack.failNext('*', { status: 500 }, 1_000_000);
  const downAt = bot.slack.calls.length;
  target.set('breaching', 'canary', { errors: 0.05, latency: 0.1 });
  ids.pausing = /#(\d+)/.exec((await bot.command('/deploy', 'pausing v2', 'U0ALICE')).json.text ?? '')?.[1] ?? '';

  const [promoted, rolledBack] = await Promise.all([waitForEnd(bot, ids.promoting!, 20_000), waitForEnd(bot, ids.breaching!, 20_000)]);
  const paused = await eventually(async () => (await bot.shipmate.deps.store.get(ids.pausing!))?.steps[0]?.watch?.paused, 10_000, 'the pause');
  expect(promoted.status).toBe('succeeded');
  expect(lines('promoting')).toEqual(['weight 5', 'weight 50', 'weight 100']);
  expect(rolledBack.status).toBe('failed');
  expect(rolledBack.error).toMatch(/rolled back at phase 1 \(5 %\): error rate = 5 %/);
  expect(lines('breaching')).toEqual(['weight 5', 'abort']);
  expect(paused.reason).toMatch(/Prometheus unreachable/);
  // Slack really was down all along: it was called and answered only 500s, and nothing of the outcome reached it.
  const during = bot.slack.calls.slice(downAt);
  expect(during.length).toBeGreaterThan(0);
  expect(during.every((c) => c.status === 500)).toBe(true);
  expect(allText(bot.statusMessage(ids.promoting!)!)).not.toContain('Succeeded');
  expect(bot.statusMessage(ids.pausing!)).toBeUndefined();

  bot.slack.clearFailures(); // Slack is back
  await eventually(() => allText(bot.statusMessage(ids.promoting!) ?? { channel: '', ts: '' } as never).includes('Succeeded') && allText(bot.statusMessage(ids.breaching!) ?? { channel: '', ts: '' } as never).includes('Failed'), 20_000, 'the final status messages');
  const question = await eventually(() => bot.slack.messages(CHANNEL).find((m) => m.thread_ts && (m.text ?? '').includes('is paused at')), 20_000, 'the question');
  expect(question.thread_ts).toBe(bot.statusMessage(ids.pausing!)?.ts);
  expect(allText(bot.statusMessage(ids.breaching!)!)).toMatch(/Rolled back automatically at phase 1 \(5 %\)/);
  await eventually(() => ['promoting', 'breaching'].every((n) => bot.slack.thread(CHANNEL, bot.statusMessage(ids[n]!)!.ts).length >= 2), 10_000, 'the step output in each thread');
  await new Promise((ok) => setTimeout(ok, 1_500)); // time for any second copy to show up

  for (const id of Object.values(ids)) expect(bot.slack.messages(CHANNEL).filter((m) => !m.thread_ts && headerText(m).includes(`Deploy #${id} `))).toHaveLength(1);
  const threadTexts = bot.slack.messages(CHANNEL).filter((m) => m.thread_ts).map((m) => `${m.thread_ts} ${m.text ?? ''}`);
  expect(new Set(threadTexts).size).toBe(threadTexts.length);
  expect(bot.slack.messages(CHANNEL).filter((m) => (m.text ?? '').includes('is paused at'))).toHaveLength(1);
  await bot.shipmate.deps.deploys.cancel(ids.pausing!, 'U0ALICE');
  expect((await waitForEnd(bot, ids.pausing!, 10_000)).status).toBe('cancelled');
}, 60_000);
