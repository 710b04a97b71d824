// What the status message needs from a canary/monitor step's config: its phases and how each metric's
// values are shown (blocks/ stays free of config logic).
import type { StepConfig } from '../core/config.js';
import type { WatchPlan } from '../../blocks/canary-status.js';
import { formatValue } from './evaluate.js';

export function watchPlan(step: StepConfig | undefined): WatchPlan | undefined {
  if (!step || !('canary' in step || 'monitor' in step)) return undefined;
  const spec = 'canary' in step ? step.canary : step.monitor;
  const units = new Map(spec.metrics.map((m) => [m.name, m]));
  return {
    phases: 'canary' in step ? step.canary.phases : [{ hold: step.monitor.duration }],
    format: (name, value) => formatValue(units.get(name) ?? { unit: 'plain' }, value),
  };
}
