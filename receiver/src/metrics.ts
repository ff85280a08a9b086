import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { LIFECYCLE_ALERTS } from './lifecycle/types';

/** The receiver's metrics, named exactly as in the metrics table of receiver/README.md. */
export interface ReceiverMetrics {
  buildInfo: Gauge<'version' | 'node_version'>;
  webhookRequests: Counter<'outcome'>;
  alertsReceived: Counter<'alertname' | 'status'>;
  alertsIgnored: Counter<'reason'>;
  actions: Counter<'target' | 'action' | 'result'>;
  actionDuration: Histogram<'target' | 'action'>;
  readinessWait: Histogram<'target' | 'result'>;
  targetRunning: Gauge<'target'>;
  targetReady: Gauge<'target'>;
  targetLastTransition: Gauge<'target'>;
  targetCooldownRemaining: Gauge<'target'>;
  dockerUp: Gauge;
  dockerErrors: Counter<'operation'>;
  /** Label values: PRELOAD_RESULTS (preload-report.ts, shared with the gateway). */
  preloads: Counter<'target' | 'result'>;
}

/** The values of ai_dispatcher_webhook_requests_total{outcome}. */
export const WEBHOOK_OUTCOMES = ['accepted', 'invalid', 'unauthorized', 'too_large', 'unsupported_media_type', 'unavailable', 'error'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** The values of ai_dispatcher_alerts_received_total{alertname}: the lifecycle alerts by name, any other as "other". */
export const ALERTNAME_VALUES = [...LIFECYCLE_ALERTS, 'other'] as const;

export function alertnameValue(name: string | undefined): (typeof ALERTNAME_VALUES)[number] {
  return (LIFECYCLE_ALERTS as readonly (string | undefined)[]).includes(name) ? (name as (typeof LIFECYCLE_ALERTS)[number]) : 'other';
}

export interface MetricsOptions {
  version: string;
  /** Also export prom-client's default process_* and nodejs_* metrics on this registry. */
  processMetrics?: boolean;
  /** Called at scrape time: seconds until each target may transition again. */
  cooldownRemaining?: () => Array<{ target: string; seconds: number }>;
}

export function createMetrics(registry: Registry, options: MetricsOptions): ReceiverMetrics {
  const registers = [registry];
  const cooldownRemaining = options.cooldownRemaining;
  const metrics: ReceiverMetrics = {
    buildInfo: new Gauge({
      name: 'ai_dispatcher_build_info',
      help: 'Always 1; labels say which receiver version runs on which Node.js.',
      labelNames: ['version', 'node_version'],
      registers,
    }),
    webhookRequests: new Counter({
      name: 'ai_dispatcher_webhook_requests_total',
      help: 'Alertmanager webhook requests by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    alertsReceived: new Counter({
      name: 'ai_dispatcher_alerts_received_total',
      help: 'Alerts in accepted notifications, by lifecycle alert name (other names: "other") and status.',
      labelNames: ['alertname', 'status'],
      registers,
    }),
    alertsIgnored: new Counter({
      name: 'ai_dispatcher_alerts_ignored_total',
      help: 'Alerts that led to no action, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    actions: new Counter({
      name: 'ai_dispatcher_actions_total',
      help: 'Lifecycle actions (ensure running / ensure stopped) by target, action and result.',
      labelNames: ['target', 'action', 'result'],
      registers,
    }),
    actionDuration: new Histogram({
      name: 'ai_dispatcher_action_duration_seconds',
      help: 'Time from the start of an executed action to its result, readiness wait included.',
      labelNames: ['target', 'action'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    readinessWait: new Histogram({
      name: 'ai_dispatcher_readiness_wait_seconds',
      help: 'Time from a start until the target was ready, or until the wait gave up.',
      labelNames: ['target', 'result'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    targetRunning: new Gauge({
      name: 'ai_dispatcher_target_running',
      help: '1 when every member container of the target runs, as last observed in Docker.',
      labelNames: ['target'],
      registers,
    }),
    targetReady: new Gauge({
      name: 'ai_dispatcher_target_ready',
      help: '1 when the target runs and its readiness check passed at the last look.',
      labelNames: ['target'],
      registers,
    }),
    targetLastTransition: new Gauge({
      name: 'ai_dispatcher_target_last_transition_timestamp_seconds',
      help: 'Unix time of the last start or stop of the target, by the receiver or noticed in Docker.',
      labelNames: ['target'],
      registers,
    }),
    targetCooldownRemaining: new Gauge({
      name: 'ai_dispatcher_target_cooldown_remaining_seconds',
      help: 'Seconds until the target may start or stop again (0 outside a cooldown).',
      labelNames: ['target'],
      registers,
      collect() {
        if (!cooldownRemaining) return;
        for (const { target, seconds } of cooldownRemaining()) this.set({ target }, seconds);
      },
    }),
    dockerUp: new Gauge({
      name: 'ai_dispatcher_docker_up',
      help: '1 when the last Docker API call reached the engine, else 0.',
      registers,
    }),
    dockerErrors: new Counter({
      name: 'ai_dispatcher_docker_errors_total',
      help: 'Docker API calls that failed, by operation.',
      labelNames: ['operation'],
      registers,
    }),
    preloads: new Counter({
      name: 'ai_dispatcher_preloads_total',
      help: 'Model loads after a target came up, as the gateway reported them, by target and result (one per model of a round).',
      labelNames: ['target', 'result'],
      registers,
    }),
  };
  metrics.buildInfo.set({ version: options.version, node_version: process.version }, 1);
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return metrics;
}
