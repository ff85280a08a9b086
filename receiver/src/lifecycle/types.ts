export const LIFECYCLE_ACTIONS = ['start', 'stop'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export function isLifecycleAction(value: string): value is LifecycleAction {
  return (LIFECYCLE_ACTIONS as readonly string[]).includes(value);
}

/** Results as counted in ai_dispatcher_actions_total{result}. */
export const ACTION_RESULTS = ['success', 'noop', 'failed', 'not_ready', 'suppressed', 'dry_run'] as const;
export type ActionResult = (typeof ACTION_RESULTS)[number];

/** Who asked: an Alertmanager notification, an operator (manual override), or a client waiting for readiness. */
export type ActionOrigin = 'alert' | 'manual' | 'wake';

export const LIFECYCLE_ALERTS = ['PendingAIWorkflows', 'AIWorkExpectedSoon', 'AIServicesIdleTooLong'] as const;

/** Alert labels of the contract (rules/README.md). */
export const ACTION_LABEL = 'ai_dispatcher_action';
export const TARGET_LABEL = 'ai_dispatcher_target';
