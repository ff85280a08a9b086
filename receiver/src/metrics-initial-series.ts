import type { DockerOperation } from './docker/instrumented-controller';
import type { IgnoreReason } from './lifecycle/planner';
import { LIFECYCLE_ALERTS, type ActionResult, type LifecycleAction } from './lifecycle/types';
import type { ReadinessResult } from './lifecycle/readiness';
import type { ReceiverMetrics, WebhookOutcome } from './metrics';

// Every value a label can take, checked against the types so that a new value cannot be forgotten here.
const ACTIONS = ['start', 'stop'] as const satisfies readonly LifecycleAction[];
const RESULTS = ['success', 'noop', 'failed', 'not_ready', 'suppressed', 'dry_run'] as const satisfies readonly ActionResult[];
const READINESS = ['ready', 'timeout'] as const satisfies readonly ReadinessResult[];
const OUTCOMES = [
  'accepted', 'invalid', 'unauthorized', 'too_large', 'unsupported_media_type', 'unavailable', 'error',
] as const satisfies readonly WebhookOutcome[];
const IGNORE_REASONS = ['unknown_target', 'unknown_action', 'resolved', 'missing_labels'] as const satisfies readonly IgnoreReason[];
const ALERT_NAMES = [...LIFECYCLE_ALERTS, 'other'] as const;
const ALERT_STATUSES = ['firing', 'resolved'] as const;
const DOCKER_OPERATIONS = ['ping', 'inspect', 'start', 'stop'] as const satisfies readonly DockerOperation[];

type Complete<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const complete: [
  Complete<LifecycleAction, (typeof ACTIONS)[number]>,
  Complete<ActionResult, (typeof RESULTS)[number]>,
  Complete<ReadinessResult, (typeof READINESS)[number]>,
  Complete<WebhookOutcome, (typeof OUTCOMES)[number]>,
  Complete<IgnoreReason, (typeof IGNORE_REASONS)[number]>,
  Complete<DockerOperation, (typeof DOCKER_OPERATIONS)[number]>,
] = [true, true, true, true, true, true];
void complete;

/**
 * Creates every bounded series at 0 before anything happens. prom-client creates a labelled series at its first
 * observation, so without this rate()/increase() never see the first start, stop, error or readiness wait (the
 * series appears already at 1). Target labels come from the configuration only, so the set stays bounded.
 *
 * The target state gauges (running, ready, last transition) are left alone on purpose: before Docker has been read
 * their value is unknown, and a 0 would read as "stopped" (and count as time saved) or as a transition in 1970.
 */
export function initialiseSeries(metrics: ReceiverMetrics, targets: readonly string[]): void {
  for (const target of targets) {
    for (const action of ACTIONS) {
      for (const result of RESULTS) metrics.actions.inc({ target, action, result }, 0);
      metrics.actionDuration.zero({ target, action });
    }
    for (const result of READINESS) metrics.readinessWait.zero({ target, result });
  }
  for (const outcome of OUTCOMES) metrics.webhookRequests.inc({ outcome }, 0);
  for (const reason of IGNORE_REASONS) metrics.alertsIgnored.inc({ reason }, 0);
  for (const alertname of ALERT_NAMES) for (const status of ALERT_STATUSES) metrics.alertsReceived.inc({ alertname, status }, 0);
  for (const operation of DOCKER_OPERATIONS) metrics.dockerErrors.inc({ operation }, 0);
}
