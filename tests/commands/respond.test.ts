// The slash-command wrapper: an ack always goes out before Slack's 3 s, and a handler past its commit
// deadline is answered "nothing was queued" (the services write nothing after it).
import { describe, expect, it } from 'vitest';
import { ACK_BY_MS, COMMIT_BY_MS, DATABASE_DOWN_REPLY, commandListener, type CommandArgs } from '../../commands/respond.js';
import type { Deps } from '../../src/deps.js';
import { memoryLog } from '../helpers/harness.js';

function invoke(handle: Parameters<typeof commandListener>[2]) {
  const calls: Array<{ how: 'ack' | 'respond'; text: string; at: number }> = [];
  const started = Date.now();
  const args = {
    command: { user_id: 'U0ALICE', channel_id: 'C0RELEASES', text: 'staging', trigger_id: 't' },
    ack: async (m: { text: string }) => void calls.push({ how: 'ack', text: m.text, at: Date.now() - started }),
    respond: async (m: { text: string }) => void calls.push({ how: 'respond', text: m.text, at: Date.now() - started }),
  } as unknown as CommandArgs;
  const listener = commandListener('/deploy', { log: memoryLog().log } as unknown as Deps, handle);
  return { done: listener(args), calls };
}

describe('commandListener', () => {
  it('acks a slow handler with a holding reply before 3 s, then delivers its answer through response_url', async () => {
    let after = false;
    const { done, calls } = invoke(async () => {
      await new Promise((ok) => setTimeout(ok, ACK_BY_MS + 300));
      return { reply: 'Deploy #7 queued', after: async () => void (after = true) };
    });
    await done;
    expect(calls.map((c) => c.how)).toEqual(['ack', 'respond']);
    expect(calls[0]!.at).toBeLessThan(2_900);
    expect(calls[0]!.text).toMatch(/Still working/);
    expect(calls[1]!.text).toBe('Deploy #7 queued');
    expect(after).toBe(true);
  });

  it('says nothing was queued when the handler stops at its commit deadline', async () => {
    const { done, calls } = invoke(async (_args, _log, signal) => {
      await new Promise((ok) => setTimeout(ok, COMMIT_BY_MS + 50));
      signal.throwIfAborted();
      return { reply: 'unreachable' };
    });
    await done;
    expect(calls).toEqual([{ how: 'ack', text: DATABASE_DOWN_REPLY, at: expect.any(Number) }]);
  });
});
