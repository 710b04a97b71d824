// What "a deploy survived" means in the fault rows: it ended visibly (a final status, shown in its status
// message), it has exactly one log entry (stored and posted) that matches it, no two of its step runs (nor
// two runs in its environment) were alive at once, nothing of it ran after it ended, and its final status
// never changed once reached.
import { STATUS_LABEL } from '../../blocks/deploy-status.js';
import { isFinal, type DeployRecord, type DeployStatus } from '../../src/deploys/deploy-store.js';
import { allText, type TestBot } from '../helpers/harness.js';
import { describeRun, overlaps, stepRuns, type StepRun } from '../helpers/chaos.js';

export interface Tracked {
  id: string;
  env: string;
}

/** Polls until every deploy has a final status (or the deadline passes); remembers the first final status seen. */
export async function waitForAllFinal(bot: TestBot, deploys: readonly Tracked[], deadline: number, firstFinal: Map<string, DeployStatus>): Promise<void> {
  for (;;) {
    const records = await bot.shipmate.deps.store.getMany(deploys.map((d) => d.id));
    for (const r of records) if (isFinal(r.status) && !firstFinal.has(r.id)) firstFinal.set(r.id, r.status);
    // firstFinal is shared by every round of a row: count only these deploys.
    if (deploys.every((d) => firstFinal.has(d.id)) || Date.now() > deadline) return;
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/**
 * Messages go through the delivery queue, after the record: waits (up to the deadline, shared by all the
 * deploys of a row) until each status message shows its deploy's final status and each deploy-log post is there.
 */
export async function waitForMessages(bot: TestBot, deploys: readonly Tracked[], deadline: number, opts: { deployLogChannel?: string } = {}): Promise<void> {
  for (;;) {
    const records = await bot.shipmate.deps.store.getMany(deploys.map((d) => d.id));
    const settled = records.every((r) => {
      if (!isFinal(r.status)) return true;
      const message = bot.statusMessage(r.id, r.channel);
      const logged = !opts.deployLogChannel || bot.slack.messages(opts.deployLogChannel).some((m) => new RegExp(`Deploy #${r.id}(?!\\d)`).test(allText(m)));
      return message !== undefined && allText(message).includes(STATUS_LABEL[r.status]) && logged;
    });
    if (settled || Date.now() > deadline) return;
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

export async function deployProblems(bot: TestBot, marks: string, d: Tracked, all: readonly Tracked[], firstFinal: Map<string, DeployStatus>, opts: { deployLogChannel?: string } = {}): Promise<string[]> {
  const problems: string[] = [];
  const record: DeployRecord | undefined = await bot.shipmate.deps.store.get(d.id);
  if (!record) return ['no record'];
  if (!isFinal(record.status)) return [`never ended (still ${record.status}, step ${record.steps.find((s) => s.status === 'running')?.name ?? '-'})`];
  const first = firstFinal.get(d.id);
  if (first && first !== record.status) problems.push(`final status changed from ${first} to ${record.status}`);

  const message = bot.statusMessage(d.id, record.channel);
  if (!message) problems.push('no status message');
  else if (!allText(message).includes(STATUS_LABEL[record.status])) problems.push(`status message does not say ${record.status}`);

  const entries = (await bot.shipmate.deps.store.recentLog(1000)).filter((e) => e.deployId === d.id);
  if (entries.length !== 1) problems.push(`${entries.length} stored log entries`);
  else if (entries[0]?.status !== record.status) problems.push(`log entry says ${entries[0]?.status}, the deploy ${record.status}`);
  if (opts.deployLogChannel) {
    const posted = bot.slack.messages(opts.deployLogChannel).filter((m) => new RegExp(`Deploy #${d.id}(?!\\d)`).test(allText(m)));
    if (posted.length !== 1) problems.push(`${posted.length} deploy-log posts`);
  }

  const mine = stepRuns(marks, [d]);
  for (const [a, b] of overlaps(mine)) problems.push(`ran ${describeRun(a)} and ${describeRun(b)} at once`);
  const others = stepRuns(marks, all.filter((x) => x.env === d.env && x.id !== d.id));
  for (const [a, b] of overlaps([...mine, ...others])) {
    if ((a.deployId === d.id) !== (b.deployId === d.id)) {
      const [own, other] = a.deployId === d.id ? [a, b] : [b, a];
      // Reported once, by the later deploy of the pair.
      if (Number(d.id) > Number(other.deployId)) problems.push(`ran ${describeRun(own)} while deploy #${other.deployId} ran ${describeRun(other)}`);
    }
  }
  const after = mine.filter((r: StepRun) => r.start > (record.finishedAt ?? Infinity) || (r.end ?? 0) > (record.finishedAt ?? Infinity));
  for (const r of after) problems.push(`${describeRun(r)} still ran after the deploy ended ${record.status}`);
  return problems;
}
