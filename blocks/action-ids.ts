// Action ids shared by the Block Kit builders and the listeners that handle them, so they cannot drift.

export const ACTIONS = {
  cancelDeploy: 'shipmate_cancel_deploy',
  tickChecklist: 'shipmate_gate_tick',
  approve: 'shipmate_gate_approve',
  reject: 'shipmate_gate_reject',
  gatePage: 'shipmate_gate_page',
  rerunChecks: 'shipmate_gate_rerun_checks',
  postDeploySignoff: 'shipmate_post_deploy_signoff',
  withdrawDeploy: 'shipmate_gate_withdraw',
  rollbackConfirm: 'shipmate_rollback_confirm',
  rollbackKeep: 'shipmate_rollback_keep',
  /** "Tell me when it's free" under a refusal: a DM when the environment's lock is lifted. */
  lockWatch: 'shipmate_lock_watch',
  logNewer: 'shipmate_log_newer',
  logOlder: 'shipmate_log_older',
} as const;

/** Modal callback ids (view_submission). */
export const VIEWS = {
  rejectReason: 'shipmate_reject_reason',
  withdrawReason: 'shipmate_withdraw_reason',
} as const;

/** Block and action ids inside the reject modal, read back from view.state.values. */
export const REJECT_REASON_BLOCK = 'reason_block';
export const REJECT_REASON_INPUT = 'reason_input';
/** The same, inside the withdraw modal. */
export const WITHDRAW_REASON_BLOCK = 'withdraw_reason_block';
export const WITHDRAW_REASON_INPUT = 'withdraw_reason_input';

/** A deploy id as buttons and modals carry it (digits only), or undefined for anything else. */
export function parseDeployId(value: string | undefined): string | undefined {
  return /^\d{1,15}$/.test(value ?? '') ? value : undefined;
}

/** Paging buttons carry "<deployId>:<page>". */
export function parsePageValue(value: string | undefined): { deployId: string; page: number } | undefined {
  const m = /^(\d{1,15}):(\d{1,3})$/.exec(value ?? '');
  return m?.[1] && m[2] ? { deployId: m[1], page: Number(m[2]) } : undefined;
}

/** What a rollback confirmation's buttons carry: what was asked, and a one-time id so a double click counts once. */
export interface RollbackChoice {
  env: string;
  /** Why, as given to /rollback (it becomes the environment lock's reason). */
  reason?: string;
  to: string;
  from?: string;
  channel: string;
  nonce: string;
}

export function rollbackValue(choice: RollbackChoice): string {
  return JSON.stringify(choice);
}

export function parseRollbackValue(value: string | undefined): RollbackChoice | undefined {
  try {
    const v = JSON.parse(value ?? '') as Partial<RollbackChoice>;
    const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 200;
    if (!str(v.env) || !str(v.to) || !str(v.channel) || !str(v.nonce) || (v.from !== undefined && !str(v.from))) return undefined;
    const reason = typeof v.reason === 'string' && v.reason.length <= 500 ? v.reason : undefined;
    return { env: v.env, to: v.to, channel: v.channel, nonce: v.nonce, ...(v.from !== undefined ? { from: v.from } : {}), ...(reason ? { reason } : {}) };
  } catch {
    return undefined;
  }
}

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
