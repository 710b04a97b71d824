// Action ids shared by the Block Kit builders and the listeners that handle them, so they cannot drift.

export const ACTIONS = {
  cancelDeploy: 'shipmate_cancel_deploy',
  tickChecklist: 'shipmate_gate_tick',
  approve: 'shipmate_gate_approve',
  reject: 'shipmate_gate_reject',
  gatePage: 'shipmate_gate_page',
  rerunChecks: 'shipmate_gate_rerun_checks',
  postDeploySignoff: 'shipmate_post_deploy_signoff',
} as const;

/** Modal callback ids (view_submission). */
export const VIEWS = {
  rejectReason: 'shipmate_reject_reason',
} as const;

/** Block and action ids inside the reject modal, read back from view.state.values. */
export const REJECT_REASON_BLOCK = 'reason_block';
export const REJECT_REASON_INPUT = 'reason_input';

/** Checklist blocks carry the deploy id so a tick from the App Home finds its deploy: gate:<id>:<n>. */
export function checklistBlockId(deployId: string, n: number): string {
  return `gate:${deployId}:${n}`;
}

export function deployIdFromBlockId(blockId: string | undefined): string | undefined {
  const m = /^gate:(\d+):\d+$/.exec(blockId ?? '');
  return m?.[1];
}

/** Approve buttons carry "<deployId>:<role>". */
export function approveValue(deployId: string, role: string): string {
  return `${deployId}:${role}`;
}

export function parseApproveValue(value: string | undefined): { deployId: string; role: string } | undefined {
  const m = /^(\d+):([a-z][a-z0-9_-]*)$/.exec(value ?? '');
  return m?.[1] && m[2] ? { deployId: m[1], role: m[2] } : undefined;
}
