import type { ResolvedHandling } from '../config/types';
import type { WebhookPayload } from '../webhook/payload';
import { ACTION_LABEL, TARGET_LABEL, isLifecycleAction, type LifecycleAction } from '../lifecycle/types';

/** Why an alert led to no action: the values of ai_dispatcher_alerts_ignored_total{reason}. */
export const IGNORE_REASONS = ['unknown_target', 'unknown_action', 'resolved', 'missing_labels'] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

export interface Intent {
  target: string;
  action: LifecycleAction;
  alertname: string;
  fingerprint: string;
  /** Same alert, same start, same action: a repeated delivery. */
  dedupeKey: string;
}

export interface IgnoredAlert {
  alertname: string;
  fingerprint: string;
  reason: IgnoreReason;
  dedupeKey: string;
}

export interface Plan {
  /** At most one intent per target: when a start and a stop for one target meet, the start wins. */
  intents: Intent[];
  /** Stops dropped because a start for the same target came in the same notification. */
  superseded: Intent[];
  ignored: IgnoredAlert[];
}

export interface PlannerConfig {
  /** Names of the configured target groups: the only names the receiver acts on. */
  targets: ReadonlySet<string>;
  resolved: ResolvedHandling;
}

/** Pure: which target should be ensured running or stopped because of this notification. */
export function planNotification(payload: WebhookPayload, config: PlannerConfig): Plan {
  const byTarget = new Map<string, Intent>();
  const superseded: Intent[] = [];
  const ignored: IgnoredAlert[] = [];

  for (const alert of payload.alerts) {
    const alertname = alert.labels.alertname ?? '';
    const base = `${alert.fingerprint}|${alert.startsAt}`;
    const ignore = (reason: IgnoreReason) =>
      ignored.push({ alertname, fingerprint: alert.fingerprint, reason, dedupeKey: `${base}|${alert.status}|${reason}` });

    const requested = alert.labels[ACTION_LABEL];
    const target = alert.labels[TARGET_LABEL];
    if (requested === undefined || target === undefined) {
      ignore('missing_labels');
      continue;
    }
    if (!isLifecycleAction(requested)) {
      ignore('unknown_action');
      continue;
    }
    if (!config.targets.has(target)) {
      ignore('unknown_target');
      continue;
    }
    let action: LifecycleAction = requested;
    if (alert.status === 'resolved') {
      if (config.resolved === 'ignore') {
        ignore('resolved');
        continue;
      }
      action = requested === 'start' ? 'stop' : 'start';
    }

    const intent: Intent = { target, action, alertname, fingerprint: alert.fingerprint, dedupeKey: `${target}|${action}|${base}|${alert.status}` };
    const earlier = byTarget.get(target);
    if (earlier === undefined) {
      byTarget.set(target, intent);
    } else if (earlier.action === 'stop' && action === 'start') {
      superseded.push(earlier);
      byTarget.set(target, intent);
    } else if (earlier.action === 'start' && action === 'stop') {
      superseded.push(intent);
    }
    // Same action twice for one target in one notification: the first one stands for both.
  }
  return { intents: [...byTarget.values()], superseded, ignored };
}
