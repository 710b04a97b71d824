// `npm run bench [-- name ...]`: runs the benchmarks (every bench/*.ts exporting `benchmark`, see lib/types.ts),
// each measuring Shipmate and its baseline in the same run, then prints one table with the machine it ran on
// and saves the figures as JSON in bench/results/<date>.json. Nothing here asserts a time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, BenchRow } from './lib/types.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  redis: string;
}

function machine(): Machine {
  let redis = 'not found';
  try {
    redis = /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? redis;
  } catch {
    // reported as not found
  }
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, redis };
}

async function discover(): Promise<Benchmark[]> {
  const found: Benchmark[] = [];
  for (const file of readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts').sort()) {
    // Only files that declare the export are imported: a self-running script (one that measures on import) is left alone.
    if (!/export const benchmark\b/.test(readFileSync(join(here, file), 'utf8'))) continue;
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { benchmark?: Benchmark };
    if (mod.benchmark && typeof mod.benchmark.run === 'function') found.push(mod.benchmark);
  }
  // The order of the issue: ack, pipeline, scale, memory, then anything else.
  const order = ['ack', 'pipeline', 'scale', 'memory'];
  const rank = (b: Benchmark) => (order.includes(b.name) ? order.indexOf(b.name) : order.length);
  return found.sort((a, b) => rank(a) - rank(b));
}

function fmt(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function table(name: string, b: Pick<Benchmark, 'title' | 'baseline'>, rows: BenchRow[]): string {
  const lines = [`### ${name}: ${b.title}`, '', `Baseline: ${b.baseline}`, '', '| case | metric | Shipmate | baseline | ratio | target | note |', '|---|---|---:|---:|---:|---|---|'];
  for (const r of rows) lines.push(`| ${r.case} | ${r.metric} | ${fmt(r.shipmate)} | ${fmt(r.baseline)} | ${fmt(r.ratio)} | ${r.target ?? ''} | ${r.note ?? ''} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const all = await discover();
  const unknown = asked.filter((a) => !all.some((b) => b.name === a));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}. Known: ${all.map((b) => b.name).join(', ')}\n`);
    process.exit(2);
  }
  const chosen = asked.length ? all.filter((b) => asked.includes(b.name)) : all;
  const m = machine();
  const started = new Date();
  const results: Record<string, { title: string; baseline: string; seconds: number; rows: BenchRow[]; error?: string; at?: string }> = {};
  for (const b of chosen) {
    const t0 = Date.now();
    process.stderr.write(`\n== ${b.name}: ${b.title}\n`);
    try {
      const rows = await b.run({ log: (msg) => process.stderr.write(`  [${b.name} ${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`) });
      results[b.name] = { title: b.title, baseline: b.baseline, seconds: Math.round((Date.now() - t0) / 1000), rows, at: new Date(t0).toISOString() };
    } catch (err) {
      process.stderr.write(`  ${b.name} failed: ${(err as Error).stack ?? String(err)}\n`);
      results[b.name] = { title: b.title, baseline: b.baseline, seconds: Math.round((Date.now() - t0) / 1000), rows: [], error: (err as Error).message };
    }
  }

  const header = `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}, Redis ${m.redis} — ${started.toISOString()}`;
  const out = [header, ...Object.entries(results).map(([name, r]) => `${table(name, r, r.rows)}${r.error ? `\n\n**failed:** ${r.error}` : ''}\n\n(${r.seconds} s)`)].join('\n\n');
  process.stdout.write(`\n${out}\n`);

  // One file per day; a run of a subset keeps that day's other benchmarks.
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().slice(0, 10)}.json`);
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { benchmarks?: Record<string, unknown> }) : {};
  writeFileSync(file, `${JSON.stringify({ machine: m, at: started.toISOString(), benchmarks: { ...previous.benchmarks, ...results } }, null, 2)}\n`);
  // The day's tables (this run's benchmarks and the day's earlier ones), for the README to quote.
  const merged = { ...(previous.benchmarks as typeof results | undefined), ...results };
  writeFileSync(file.replace(/\.json$/, '.md'), `${[header, ...Object.entries(merged).map(([name, r]) => `${table(name, r, r.rows)}${r.error ? `\n\n**failed:** ${r.error}` : ''}\n\n(${r.seconds} s, ${r.at ?? started.toISOString()})`)].join('\n\n')}\n`);
  process.stderr.write(`\nsaved ${file} and ${file.replace(/\.json$/, '.md')}\n`);
  // Leftover handles (a worker closing slowly) must not keep a finished run alive.
  process.exit(0);
}

await main();
