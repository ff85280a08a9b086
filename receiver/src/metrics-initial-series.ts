import { DOCKER_OPERATIONS } from './docker/instrumented-controller';
import { IGNORE_REASONS } from './intake/planner';
import { READINESS_RESULTS } from './lifecycle/readiness';
import { ACTION_RESULTS, LIFECYCLE_ACTIONS } from './lifecycle/types';
import { ALERTNAME_VALUES, WEBHOOK_OUTCOMES, type ReceiverMetrics } from './metrics';
import { ALERT_STATUSES } from './webhook/payload';

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
    for (const action of LIFECYCLE_ACTIONS) {
      for (const result of ACTION_RESULTS) metrics.actions.inc({ target, action, result }, 0);
      metrics.actionDuration.zero({ target, action });
    }
    for (const result of READINESS_RESULTS) metrics.readinessWait.zero({ target, result });
  }
  for (const outcome of WEBHOOK_OUTCOMES) metrics.webhookRequests.inc({ outcome }, 0);
  for (const reason of IGNORE_REASONS) metrics.alertsIgnored.inc({ reason }, 0);
  for (const alertname of ALERTNAME_VALUES) for (const status of ALERT_STATUSES) metrics.alertsReceived.inc({ alertname, status }, 0);
  for (const operation of DOCKER_OPERATIONS) metrics.dockerErrors.inc({ operation }, 0);
}
