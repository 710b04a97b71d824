// Words a newcomer read wrong (issue 9): who the deploy log names, rollbacks logged as rollbacks, gate counts that
// agree, no "item(s)", no "cancelled: stopped (cancelled)", a red Stop dialog, dates as Slack date tokens.
import { describe, expect, it } from 'vitest';
import { deployLogBlocks, logLine } from '../../blocks/deploy-log.js';
import { deployStatusBlocks } from '../../blocks/deploy-status.js';
import { plural, queuePlace } from '../../blocks/format.js';
import { gateMessageBlocks, homeGateBlocks, waitingFor } from '../../blocks/gate-message.js';
import { loadConfig, roleLabel } from '../../src/core/config.js';
import type { DeployRecord, LogEntry } from '../../src/deploys/deploy-store.js';
import { initialGates, summarize } from '../../src/gates/gate-rules.js';

const config = loadConfig('shipmate.yml', {});
const production = config.environments.find((e) => e.name === 'production')!;
const roleName = (r: string) => roleLabel(config, r);
const at = Date.UTC(2026, 10, 21, 14, 32);

function record(over: Partial<DeployRecord> = {}): DeployRecord {
  return {
    id: '7', env: 'production', ref: 'v1.1.0', version: 'v1.1.0', requestedBy: 'U0DEMOALEX', channel: 'C0RELEASES', status: 'pending',
    createdAt: at, runs: 0, notes: [], rev: 1, steps: production.steps.map((s) => ({ name: s.name, kind: 'run' in s ? 'run' : 'http', status: 'pending' })),
    gates: initialGates(production), ...over,
  };
}

const entry = (over: Partial<LogEntry>): LogEntry => ({ deployId: '7', env: 'production', version: 'v1.1.0', ref: 'v1.1.0', deployedBy: 'U0DEMOALEX', status: 'succeeded', at, notes: [], ...over });
const text = (x: unknown) => JSON.stringify(x);

describe('the deployment log', () => {
  it('a rejected deploy names its requester as the requester ("Rejected · by @alex" read as if Alex had rejected it)', () => {
    const rejected = entry({ status: 'rejected', notes: ['rejected by <@U0DEMOSAM>: no rollback plan'] });
    expect(logLine(rejected)).toContain(':no_entry: Rejected · requested by <@U0DEMOALEX>');
    expect(logLine(rejected)).not.toMatch(/Rejected · by/);
    expect(text(deployLogBlocks(rejected).blocks)).toContain('*Requested by*\\n<@U0DEMOALEX>');
  });

  it('a deploy that ran names who deployed it', () => {
    expect(logLine(entry({ durationMs: 4000 }))).toContain(':white_check_mark: Succeeded · deployed by <@U0DEMOALEX> · 4.0 s');
  });

  it('a rollback is logged as a rollback, not as a plain "Succeeded"', () => {
    const rollback = entry({ kind: 'rollback', version: 'v1.0.0', ref: 'v1.0.0', durationMs: 5000, notes: ['rollback from v1.1.0'] });
    expect(logLine(rollback)).toContain(':white_check_mark: Rollback succeeded · rolled back by <@U0DEMOALEX>');
    const { text: fallback, blocks } = deployLogBlocks(rollback);
    expect(fallback).toBe('Deployment log: production rolled back to v1.0.0 — succeeded');
    expect(text(blocks)).toContain('*Status*\\n:white_check_mark: Rollback succeeded');
    expect(text(blocks)).toContain('Rollback #7');
    expect(logLine({ ...rollback, status: 'failed' })).toContain(':x: Rollback failed');
  });
});

describe('gate counts', () => {
  it('the /deploy reply, the gate message and the Home tab count the same items, whether or not the automatic check has run', () => {
    const before = record();
    const after = record({ gates: { ...initialGates(production), items: { ...initialGates(production).items, 'ci-green': { checked: true, auto: true } } } });
    expect(waitingFor(summarize(production, before.gates!))).toBe('6 checklist items, 1 automatic check and 2 approvals');
    expect(waitingFor(summarize(production, after.gates!))).toBe('6 checklist items and 2 approvals');
    expect(text(gateMessageBlocks(after, production, roleName).blocks)).toContain('Waiting for 6 checklist items and 2 approvals.');
    const home = text(homeGateBlocks(after, production, roleName, { canApprove: true, canTick: true }));
    expect(home).toContain('Waiting for 6 checklist items and 2 approvals.');
    expect(home).not.toContain('(s)');
  });

  it('counts in words, singular and plural', () => {
    expect(plural(1, 'approval')).toBe('1 approval');
    expect(plural(3, 'checklist item')).toBe('3 checklist items');
    expect(waitingFor({ missingItems: [{ id: 'a', text: 'A', section: 'S', auto: false }], approvalsNeeded: 1, met: false })).toBe('1 checklist item and 1 approval');
    expect(waitingFor({ missingItems: [], approvalsNeeded: 0, met: true })).toBe('nothing');
  });
});

describe('queue places', () => {
  it('say what happens, not "queued, position 1 — starting now" or "the 1 ahead of it"', () => {
    expect(queuePlace(1, 'dev')).toBe('nothing is ahead of it, so it starts right away');
    expect(queuePlace(2, 'dev')).toBe('it waits for 1 dev deploy ahead of it');
    expect(queuePlace(4, 'dev')).toBe('it waits for 3 dev deploys ahead of it');
  });
});

describe('the status message', () => {
  it('a cancelled step says it was stopped once, and why', () => {
    const d = record({ status: 'cancelled', gates: undefined, steps: [{ name: 'Deploy', kind: 'run', status: 'cancelled', error: 'stopped (cancelled)' }] });
    const shown = text(deployStatusBlocks(d).blocks);
    expect(shown).toContain('1. Deploy — stopped: the deploy was cancelled');
    expect(shown).not.toContain('stopped (cancelled)');
  });

  it('the Stop dialog confirms in red (style danger)', () => {
    const { blocks } = deployStatusBlocks(record({ status: 'running', queuedAt: at, startedAt: at, gates: undefined }));
    expect(text(blocks)).toContain('"text":"Stop deploy"');
    expect(text(blocks)).toMatch(/"confirm":\{"title":\{"type":"plain_text","text":"Stop this deploy\?"\}.*"style":"danger"\}/);
  });

  it('a rollback offers "Stop rollback", not "Stop deploy"', () => {
    const rollback = record({ kind: 'rollback', rollbackFrom: 'v1.1.0', version: 'v1.0.0', status: 'running', queuedAt: at, startedAt: at, gates: undefined });
    const shown = text(deployStatusBlocks(rollback).blocks);
    expect(shown).toContain('"text":"Stop rollback"');
    expect(shown).toContain('Stop this rollback?');
    expect(shown).not.toContain('deploy?');
    expect(text(deployStatusBlocks({ ...rollback, status: 'queued' }).blocks)).toContain('Rollback #7 leaves the queue');
  });
});

describe('dates', () => {
  it('are Slack date tokens, each reader in their own time zone; "UTC" only in the fallback text', () => {
    const d = record({ gates: { ...initialGates(production), approvals: [{ user: 'U0DEMOTARA', role: 'tech_lead', at }], expired: [{ user: 'U0DEMOSAM', role: 'security_lead', at, expiredAt: at + 60_000 }] } });
    const shown = text(gateMessageBlocks(d, production, roleName).blocks);
    expect(shown).toContain(`Tech Lead — <@U0DEMOTARA> <!date^${at / 1000}^{date_short_pretty} {time}|2026-11-21 14:32 UTC>`);
    expect(shown).toContain(`expired <!date^${at / 1000 + 60}^`);
    expect(shown.replace(/<!date\^[^>]+>/g, '')).not.toContain('UTC');
  });
});
