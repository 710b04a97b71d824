// The resilience table: each row's test counts what it tried, what survived and what was lost, stores the
// counts on its vitest task (task.meta, which reaches the reporter across worker processes) and then
// asserts that nothing was lost. The reporter (table-reporter.ts) prints the table and writes it as JSON.
import type { TaskMeta } from 'vitest';

export interface RowResult {
  id: RowId;
  row: string;
  tried: number;
  survived: number;
  lost: number;
  /** What was measured, in a few words (e.g. "20 deploys, 23 worker kills"). */
  note?: string;
  /** The first few things lost, each with why. */
  examples?: string[];
}

declare module 'vitest' {
  interface TaskMeta {
    resilience?: RowResult;
  }
}

/** The rows in the order the table shows them. */
export const ROWS = {
  workerKill: 'worker SIGKILL at random moments, 20 deploys, two workers',
  redisRestart: 'Redis killed and restarted mid-traffic, two workers',
  slackFaults: 'Slack answering 500 / 429 / slow for a while',
  duplicates: 'duplicate deliveries of every command and button',
  fuzzCommands: 'fuzz: command texts (/deploy, /deploys, /rollback)',
  fuzzRefs: 'fuzz: refs',
  fuzzPayloads: 'fuzz: interaction payloads (block_actions, view_submission)',
  fuzzConfig: 'fuzz: config files',
  forged: 'forged, stale, replayed and oversized requests',
  unauthorized: 'every command and button by a user without the role',
} as const;

export type RowId = keyof typeof ROWS;

/** Counts one row: `check` each thing tried with the problems found (none = survived). */
export class Tally {
  tried = 0;
  private readonly lostItems: string[] = [];

  constructor(readonly id: RowId) {}

  /** One thing tried; `problems` empty means it survived. */
  check(what: string, problems: ReadonlyArray<string | false | undefined | null>): void {
    this.tried += 1;
    const real = problems.filter((p): p is string => typeof p === 'string' && p.length > 0);
    if (real.length > 0) this.lostItems.push(`${what}: ${real.join('; ')}`);
  }

  get lost(): number {
    return this.lostItems.length;
  }

  result(note?: string): RowResult {
    return {
      id: this.id,
      row: ROWS[this.id],
      tried: this.tried,
      survived: this.tried - this.lostItems.length,
      lost: this.lostItems.length,
      ...(note ? { note } : {}),
      ...(this.lostItems.length ? { examples: this.lostItems.slice(0, 20).map((e) => (e.length > 400 ? `${e.slice(0, 397)}…` : e)) } : {}),
    };
  }

  /** Stores the row on the test (for the reporter) and returns it; call before asserting. */
  record(task: { meta: TaskMeta }, note?: string): RowResult {
    const row = this.result(note);
    task.meta.resilience = row;
    return row;
  }
}

/** The assertion message for a row that lost something: the counts and the first examples. */
export function lostMessage(row: RowResult): string {
  return `${row.row}: lost ${row.lost} of ${row.tried}\n${(row.examples ?? []).map((e) => `  - ${e}`).join('\n')}`;
}
