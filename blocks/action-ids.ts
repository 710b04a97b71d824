// Action ids shared by the Block Kit builders and the listeners that handle them, so they cannot drift.

export const ACTIONS = {
  cancelDeploy: 'shipmate_cancel_deploy',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];
