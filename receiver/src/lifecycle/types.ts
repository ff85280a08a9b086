export type LifecycleAction = 'start' | 'stop';

/** Results as counted in ai_dispatcher_actions_total{result}. */
export type ActionResult = 'success' | 'noop' | 'failed' | 'not_ready' | 'suppressed' | 'dry_run';

/** Who asked: an Alertmanager notification, an operator (manual override), or a client waiting for readiness. */
export type ActionOrigin = 'alert' | 'manual' | 'wake';

export const LIFECYCLE_ALERTS = ['PendingAIWorkflows', 'AIWorkExpectedSoon', 'AIServicesIdleTooLong'] as const;

/** Alert labels of the contract (rules/README.md). */
export const ACTION_LABEL = 'ai_dispatcher_action';
export const TARGET_LABEL = 'ai_dispatcher_target';
