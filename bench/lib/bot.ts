// Shipmate in the benchmark's own process, through the test harness (the real Bolt receiver fed signed requests,
// the Slack stand-in recording every call), plus the helpers the benchmarks share: requesting deploys over HTTP
// with bounded concurrency, waiting for them to end and for the channel messages to settle.
import { isFinal, type DeployRecord } from '../../src/deploys/deploy-store.js';
import { deployIdFrom, type TestBot } from '../../tests/helpers/harness.js';
import { until } from './stats.js';

/** A config with `envs` environments (e0, e1, …) of `steps` steps each, every step `run`. */
export function pipelineYaml(envs: number, steps: number, run: string[] = ['true']): string {
  const step = (i: number) => `      - { name: S${i}, run: ${JSON.stringify(run)} }`;
  const env = (e: number) => `  - name: e${e}\n    steps:\n${Array.from({ length: steps }, (_, i) => step(i)).join('\n')}`;
  return `roles:\n  deployers: { users: [U0ALICE] }\nenvironments:\n${Array.from({ length: envs }, (_, e) => env(e)).join('\n')}\n`;
}

/** Sends `/deploy <env> <version>` for each pair, `parallel` at a time; returns the deploy ids in order. */
export async function requestDeploys(bot: TestBot, pairs: Array<[string, string]>, parallel = 8): Promise<string[]> {
  const ids: string[] = new Array(pairs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, pairs.length) }, async () => {
    while (next < pairs.length) {
      const i = next++;
      const [env, version] = pairs[i] as [string, string];
      const res = await bot.command('/deploy', `${env} ${version}`);
      ids[i] = deployIdFrom(String(res.json?.text ?? res.text));
    }
  }));
  return ids;
}

/** Waits (bounded) until every deploy has ended; returns the records, ended or not. */
export async function waitAllEnded(bot: TestBot, ids: readonly string[], timeoutMs: number): Promise<DeployRecord[]> {
  let records: DeployRecord[] = [];
  await until(async () => {
    records = await bot.shipmate.deps.store.getMany(ids);
    return records.length === ids.length && records.every((r) => isFinal(r.status));
  }, timeoutMs, 20);
  return records;
}

/** Waits (bounded) until Slack delivery is idle: nothing waiting in the delivery queue and no new call for 300 ms. */
export async function settle(bot: TestBot, timeoutMs = 30_000): Promise<void> {
  let calls = -1;
  let quietSince = Date.now();
  await until(async () => {
    const c = await bot.shipmate.deps.queues.deliver.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const busy = Object.values(c).some((n) => n > 0);
    if (bot.slack.calls.length !== calls || busy) {
      calls = bot.slack.calls.length;
      quietSince = Date.now();
      return false;
    }
    return Date.now() - quietSince > 300;
  }, timeoutMs, 50);
}

/** Request → first step: from the record's creation to its first step's start. */
export function firstStepLatencies(records: readonly DeployRecord[]): number[] {
  return records.filter((r) => r.steps[0]?.startedAt !== undefined).map((r) => (r.steps[0]?.startedAt as number) - r.createdAt);
}

/** Whether any two of an environment's deploys ran at the same time (from their start/finish times). */
export function overlaps(records: readonly DeployRecord[]): number {
  const byEnv = new Map<string, DeployRecord[]>();
  for (const r of records) if (r.startedAt) byEnv.set(r.env, [...(byEnv.get(r.env) ?? []), r]);
  let n = 0;
  for (const list of byEnv.values()) {
    list.sort((a, b) => (a.startedAt as number) - (b.startedAt as number));
    for (let i = 1; i < list.length; i++) if ((list[i]?.startedAt as number) < (list[i - 1]?.finishedAt ?? Infinity)) n++;
  }
  return n;
}
