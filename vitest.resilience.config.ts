// Vitest config for `npm run test:resilience`: the resilience suite (tests/resilience/), run apart from
// `npm test` because it kills workers and Redis and fuzzes thousands of requests (a few minutes).
// Rows run in two forks; the table reporter prints the tried / survived / lost table and writes
// test-results/resilience.json.
import { defineConfig } from 'vitest/config';
import ResilienceTableReporter from './tests/resilience/table-reporter.js';

const json = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['tests/resilience/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    reporters: ['default', new ResilienceTableReporter(), ...(json ? ['json'] : [])],
    outputFile: json ? { json } : undefined,
  },
});
