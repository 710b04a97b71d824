// Finds every interactive element (buttons, checkboxes) in a message the bot posted, so a test can try each
// one without listing them by hand — a button added later is tried too.
import type { StandinMessage } from '../../playground/slack-standin/server.js';

export interface ShownElement {
  type: string;
  action_id: string;
  block_id?: string;
  value?: string;
  /** Checkbox options (their values are checklist item ids). */
  options?: Array<{ value: string }>;
  initial_options?: Array<{ value: string }>;
}

/** Interactive elements of a message's blocks, one per action id (the first one shown). */
export function interactiveElements(message: Pick<StandinMessage, 'blocks'>): ShownElement[] {
  const out = new Map<string, ShownElement>();
  for (const block of (message.blocks ?? []) as Array<{ block_id?: string; elements?: unknown[]; accessory?: unknown }>) {
    for (const el of [...(block.elements ?? []), block.accessory] as Array<ShownElement | undefined>) {
      if (!el?.action_id || out.has(el.action_id)) continue;
      if (el.type === 'button' || el.type === 'checkboxes' || el.type === 'static_select' || el.type === 'overflow') out.set(el.action_id, { ...el, block_id: block.block_id });
    }
  }
  return [...out.values()];
}
