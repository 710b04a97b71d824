// A real Prometheus (Debian's /usr/bin/prometheus) started for the tests, scraping a hand-written
// exposition target every second whose error rate and latency gauges the test sets per service label.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface Series {
  errors: number;
  latency: number;
}

export interface MetricsTarget {
  port: number;
  /** Sets (or with undefined removes: the series goes stale, queries return no data) one service's track. */
  set(svc: string, track: 'canary' | 'stable', values: Series | undefined): void;
  close(): Promise<void>;
}

export async function startTarget(): Promise<MetricsTarget> {
  const series = new Map<string, Series>();
  const server: Server = createServer((_req, res) => {
    const lines = ['# TYPE app_error_ratio gauge', '# TYPE app_latency_p95_seconds gauge'];
    for (const [key, v] of series) {
      const [svc, track] = key.split('/');
      lines.push(`app_error_ratio{svc="${svc}",track="${track}"} ${v.errors}`, `app_latency_p95_seconds{svc="${svc}",track="${track}"} ${v.latency}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as AddressInfo).port,
    set: (svc, track, values) => (values ? series.set(`${svc}/${track}`, values) : series.delete(`${svc}/${track}`)),
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

export async function startPrometheus(targetPort: number): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'shipmate-prom-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`,
  );
  const child: ChildProcess = spawn('/usr/bin/prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false);
    if (ready) break;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`prometheus did not start: ${err}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((ok) => (child.exitCode !== null ? ok(undefined) : child.once('exit', ok)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
