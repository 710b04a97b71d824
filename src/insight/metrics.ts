// The four DORA numbers per environment as Prometheus gauges on /metrics, computed from the stored log when
// scraped (never from counters that reset with the process), cached briefly so frequent scrapes cost little.
import { Gauge, type Registry } from 'prom-client';
import type { Deps } from '../deps.js';
import { DAY, environmentStats } from './insight.js';

const PERIOD_MS = 30 * DAY;

export function registerDoraGauges(registry: Registry, deps: Pick<Deps, 'store' | 'config' | 'now' | 'log'>, cacheMs = 30_000): void {
  let cached: { at: number; values: Promise<Array<{ env: string; v: Record<string, number | undefined> }>> } | undefined;
  const read = () => {
    if (!cached || deps.now() - cached.at > cacheMs) {
      const values = Promise.all(deps.config.environments.map(async (e) => {
        const { stats: s } = await environmentStats(deps, e.name, deps.now(), PERIOD_MS);
        const d = s.current;
        return { env: e.name, v: { freq: d.perWeek, lead: d.leadTime.median, cfr: d.changeFailure.rate, ttr: d.restore.median } };
      }));
      values.catch(() => (cached = undefined));
      cached = { at: deps.now(), values };
    }
    return cached.values;
  };
  const gauge = (name: string, help: string, pick: (v: Record<string, number | undefined>) => number | undefined, scale = 1) =>
    new Gauge({
      name, help, labelNames: ['env'], registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const { env, v } of await read()) {
            const x = pick(v);
            if (x !== undefined) this.set({ env }, x / scale);
          }
        } catch (err) {
          deps.log.warn({ err: (err as Error).message }, 'dora metrics not computed');
        }
      },
    });
  gauge('shipmate_dora_deployment_frequency_per_week', 'Successful deploys and hotfixes per week, last 30 days', (v) => v.freq);
  gauge('shipmate_dora_lead_time_seconds', 'Median lead time for changes (oldest commit to deploy), last 30 days', (v) => v.lead, 1000);
  gauge('shipmate_dora_change_failure_ratio', 'Failed changes over changes, last 30 days', (v) => v.cfr);
  gauge('shipmate_dora_time_to_restore_seconds', 'Median time to restore after a failed change, last 30 days', (v) => v.ttr, 1000);
}
