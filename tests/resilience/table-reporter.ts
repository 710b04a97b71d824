// Vitest reporter for `npm run test:resilience`: prints the tried / survived / lost table (the one the
// README quotes) after the run and writes it to test-results/resilience.json. A row whose test never
// recorded its counts (it crashed or timed out first) is shown as such, never left out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { ROWS, type RowId, type RowResult } from './table.js';

export const RESILIENCE_JSON = 'test-results/resilience.json';

export function formatTable(rows: ReadonlyArray<RowResult & { passed?: boolean }>): string {
  const lines = ['| row | tried | survived | lost |', '| --- | ---: | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.row}${r.note ? ` (${r.note})` : ''} | ${r.tried} | ${r.survived} | ${r.lost} |`);
  return lines.join('\n');
}

export default class ResilienceTableReporter implements Reporter {
  constructor(private readonly file = RESILIENCE_JSON) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const found = new Map<RowId, RowResult & { passed: boolean; error?: string }>();
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const row = test.meta().resilience;
        const result = test.result();
        if (row) found.set(row.id, { ...row, passed: result.state === 'passed' });
        else if (result.state === 'failed') {
          // A row test that failed before recording: find its row by name so it still shows.
          const id = (Object.keys(ROWS) as RowId[]).find((k) => test.name.includes(ROWS[k]));
          if (id) found.set(id, { id, row: ROWS[id], tried: 0, survived: 0, lost: 0, passed: false, error: result.errors?.[0]?.message?.split('\n')[0] ?? 'failed before counting' });
        }
      }
    }
    const rows = (Object.keys(ROWS) as RowId[]).filter((id) => found.has(id)).map((id) => found.get(id) as RowResult & { passed: boolean; error?: string });
    if (rows.length === 0) return;
    const table = formatTable(rows);
    const notes = rows.flatMap((r) => [
      ...(r.error ? [`- ${r.row}: did not finish counting: ${r.error}`] : []),
      ...(r.lost > 0 ? [`- ${r.row}: lost ${r.lost}:`, ...(r.examples ?? []).map((e) => `    ${e}`)] : []),
    ]);
    process.stdout.write(`\nResilience (tried / survived / lost; lost must be 0):\n\n${table}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}\n`);
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify({ generatedAt: new Date().toISOString(), rows }, null, 2)}\n`);
  }
}
