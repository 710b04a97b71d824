// Every Block Kit message Shipmate builds stays inside Slack's limits, even for the seeds' full checklists.
import { describe, expect, it } from 'vitest';
import { deployLogBlocks } from '../../blocks/deploy-log.js';
import { deployStatusBlocks, stepOutputBlocks } from '../../blocks/deploy-status.js';
import { deploysOverviewBlocks } from '../../blocks/deploys-overview.js';
import { checklistPages, gateMessageBlocks, homeGateBlocks, rejectModal } from '../../blocks/gate-message.js';
import { loadConfig, parseConfig, roleLabel, type Config, type EnvironmentConfig } from '../../src/core/config.js';
import type { DeployRecord } from '../../src/deploys/deploy-store.js';
import { initialGates } from '../../src/gates/gate-rules.js';
import { blockLimitProblems, viewLimitProblems } from '../../playground/slack-standin/block-limits.js';

function record(env: EnvironmentConfig, over: Partial<DeployRecord> = {}): DeployRecord {
  return {
    id: '123456', env: env.name, ref: 'release/2026.11-very-long-branch-name-for-testing', version: 'v10.20.30-rc.1+build.12345',
    requestedBy: 'U0REQUESTER', channel: 'C0RELEASES', status: 'pending', createdAt: Date.now(), runs: 0, notes: [], rev: 1,
    steps: env.steps.map((s) => ({ name: s.name, kind: 'run' in s ? 'run' : 'http', status: 'pending' })),
    gates: initialGates(env), ...over,
  };
}

const ontos = loadConfig('examples/ontos.yml', {});
const prodOf = (c: Config) => c.environments.find((e) => e.name === 'production')!;

describe('gate messages', () => {
  it('the full Ontos production checklist fits one message, grouped as the seed groups it', () => {
    const env = prodOf(ontos);
    const { blocks } = gateMessageBlocks(record(env), env, (r) => roleLabel(ontos, r));
    expect(blockLimitProblems(blocks, 'message')).toEqual([]);
    const text = JSON.stringify(blocks);
    for (const s of ['Infrastructure', 'Security', 'Code Quality', 'Configuration', 'Documentation']) expect(text).toContain(`*${s}*`);
  });

  it('a checklist too big for one message is paged, every page inside the limits, with every item on some page', () => {
    const sections = Array.from({ length: 12 }, (_, s) => `      - section: Section ${s}\n        items:\n${Array.from({ length: 23 }, (_, i) => `          - { id: s${s}i${i}, text: "${'Item text that is fairly long and descriptive, '.repeat(3)}${i}" }`).join('\n')}`).join('\n');
    const config = parseConfig(`roles: { lead: { users: [U0LEAD1, U0LEAD2, U0LEAD3] } }\nenvironments:\n  - name: big\n    approvals: { required: 3, roles: [lead] }\n    checklist:\n${sections}\n    steps: [{ name: x, run: [true] }]\n`, 'big.yml', {});
    const env = config.environments[0]!;
    const pages = checklistPages(env);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toEqual(env.checklist.map((_, i) => i));
    const seen = new Set<string>();
    for (let page = 0; page < pages.length; page++) {
      const r = record(env);
      r.gates!.page = page;
      for (const item of Object.keys(r.gates!.items)) r.gates!.items[item] = { checked: true, by: 'U0SOMEBODYLONG', at: Date.now() };
      const { blocks } = gateMessageBlocks(r, env, (x) => x);
      expect(blockLimitProblems(blocks, 'message')).toEqual([]);
      for (const m of JSON.stringify(blocks).matchAll(/"value":"(s\d+i\d+)"/g)) seen.add(m[1]!);
      const home = homeGateBlocks(r, env, (x) => x, { canApprove: true, canTick: true });
      expect(blockLimitProblems(home, 'home')).toEqual([]);
    }
    expect(seen.size).toBe(12 * 23);
  });

  it('finished gate messages and the reject modal are inside the limits', () => {
    const env = prodOf(ontos);
    const r = record(env, { status: 'rejected' });
    r.gates!.rejected = { user: 'U0SAM', reason: 'x'.repeat(1000), at: Date.now() };
    expect(blockLimitProblems(gateMessageBlocks(r, env, (x) => x).blocks, 'message')).toEqual([]);
    const modal = rejectModal(r, 'cb', 'b', 'a');
    expect(viewLimitProblems(modal, 'modal')).toEqual({ blocks: [], view: [] });
  });
});

describe('deploy messages', () => {
  const config = parseConfig(`environments:\n  - name: many\n    steps:\n${Array.from({ length: 60 }, (_, i) => `      - { name: "${'Step with a long descriptive name '.repeat(2)}${i}", run: [true] }`).join('\n')}\n`, 'many.yml', {});
  const env = config.environments[0]!;

  it('a 60-step status message in every state stays inside the limits', () => {
    for (const status of ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const) {
      const r = record(env, { status, gates: undefined, startedAt: Date.now() - 5000, cancelledBy: 'U0X', error: 'e'.repeat(5000), notes: ['n'.repeat(3000)] });
      r.steps.forEach((s, i) => Object.assign(s, { status: i % 3 === 0 ? 'failed' : 'passed', durationMs: 1234, error: 'boom '.repeat(100) }));
      const { blocks } = deployStatusBlocks(r, { position: 3, signoff: { label: 'Product team' } });
      expect(blockLimitProblems(blocks, 'message')).toEqual([]);
    }
  });

  it('step output keeps the end of long output and stays inside the limits', () => {
    const out = Array.from({ length: 5000 }, (_, i) => `line ${i} \`\`\` <b>`).join('\n');
    const { blocks } = stepOutputBlocks({ name: 'Build', kind: 'run', status: 'passed', durationMs: 10 }, 0, out);
    expect(blockLimitProblems(blocks, 'message')).toEqual([]);
    expect(JSON.stringify(blocks)).toContain('line 4999');
  });

  it('log entries and the /deploys overview with 30 environments stay inside the limits', () => {
    const entry = { deployId: '1', env: 'production', version: 'v1', ref: 'main', deployedBy: 'U0A', status: 'failed' as const, at: Date.now(), durationMs: 61_000, notes: ['x'.repeat(5000)] };
    expect(blockLimitProblems(deployLogBlocks(entry).blocks, 'message')).toEqual([]);
    const envs = Array.from({ length: 30 }, (_, i) => ({ name: `env${i}`, aliases: ['a', 'b'], active: [], current: { env: `env${i}`, version: 'v1', ref: 'main', deployId: '1', deployedBy: 'U0A', at: Date.now() } }));
    const { blocks } = deploysOverviewBlocks(envs, Array.from({ length: 10 }, () => entry));
    expect(blockLimitProblems(blocks, 'message')).toEqual([]);
  });
});
