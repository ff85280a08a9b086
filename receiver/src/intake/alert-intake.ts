import type { Clock } from '../clock';
import type { ReceiverConfig } from '../config/types';
import type { DockerController } from '../docker/controller';
import type { TargetManager } from '../lifecycle/manager';
import { ShuttingDownError, type Disposition } from '../lifecycle/submission';
import type { LifecycleAction } from '../lifecycle/types';
import type { Logger } from '../logger';
import { alertnameValue, type ReceiverMetrics } from '../metrics';
import { checkPayload, type ValidationIssue } from '../webhook/payload';
import { DedupeWindow } from './dedupe';
import { planNotification, type IgnoreReason, type PlannerConfig } from './planner';
import { dockerPreflight } from './preflight';

export interface AlertIntakeDeps {
  config: ReceiverConfig;
  manager: TargetManager;
  docker: DockerController;
  logger: Logger;
  clock: Clock;
  metrics: ReceiverMetrics;
  dryRun: boolean;
}

export interface AcceptedNotification {
  status: 'accepted';
  dryRun: boolean;
  actions: Array<{ target: string; action: LifecycleAction; disposition: Disposition; reason?: string }>;
  /** Alerts acted on within the dedupe window already (repeated deliveries). */
  duplicates: number;
  ignored: Array<{ alertname: string; fingerprint: string; reason: IgnoreReason }>;
}

/** What became of one Alertmanager notification; the route maps it to a status code. */
export type IntakeResult =
  | { outcome: 'accepted'; notification: AcceptedNotification }
  | { outcome: 'invalid'; errors: ValidationIssue[] }
  | { outcome: 'unavailable'; error: 'docker_unavailable' | 'shutting_down' };

/**
 * The webhook's intake policy in one place: the payload check, the plan (which target to start or stop), the
 * two windows (a repeated delivery acts once; an ignored alert is logged once), the Docker preflight, the
 * counting of alerts and of what was not done, and the hand-over to the target manager.
 */
export class AlertIntake {
  private readonly planner: PlannerConfig;
  /** Repeated deliveries (Alertmanager retries, HA peers, repeat_interval) act once. */
  private readonly acted: DedupeWindow;
  /** Ignored alerts are counted every time but logged once per window. */
  private readonly ignoredLog: DedupeWindow;

  constructor(private readonly deps: AlertIntakeDeps) {
    const windowMs = deps.config.webhook.dedupeWindowSeconds * 1000;
    this.acted = new DedupeWindow(windowMs);
    this.ignoredLog = new DedupeWindow(windowMs);
    this.planner = { targets: new Set(deps.manager.names()), resolved: deps.config.webhook.resolved };
    // After a failed or not-ready action (whoever asked for it) the next delivery of the same alert must act again.
    deps.manager.onFinished((outcome) => {
      if (outcome.result === 'failed' || outcome.result === 'not_ready') this.acted.forgetTarget(outcome.target);
    });
  }

  async take(body: unknown): Promise<IntakeResult> {
    const { metrics, logger, manager } = this.deps;
    const checked = checkPayload(body);
    if (!checked.ok) return { outcome: 'invalid', errors: checked.errors };
    const payload = checked.payload;
    for (const alert of payload.alerts) {
      metrics.alertsReceived.inc({ alertname: alertnameValue(alert.labels.alertname), status: alert.status });
    }

    const plan = planNotification(payload, this.planner);
    const now = this.deps.clock.now();
    for (const ignored of plan.ignored) {
      metrics.alertsIgnored.inc({ reason: ignored.reason });
      if (!this.ignoredLog.has(ignored.dedupeKey, now)) {
        this.ignoredLog.remember(ignored.dedupeKey, '', now);
        logger.info('alert ignored', { alertname: ignored.alertname, fingerprint: ignored.fingerprint, reason: ignored.reason });
      }
    }
    let duplicates = 0;
    const fresh = plan.intents.filter((intent) => {
      if (!this.acted.has(intent.dedupeKey, now)) return true;
      duplicates += 1;
      metrics.actions.inc({ target: intent.target, action: intent.action, result: 'noop' });
      return false;
    });

    if (fresh.length > 0 && (await dockerPreflight(this.deps.docker, this.deps.dryRun)) === 'docker_unavailable') {
      return { outcome: 'unavailable', error: 'docker_unavailable' };
    }

    const actions: AcceptedNotification['actions'] = [];
    for (const stop of plan.superseded) {
      metrics.actions.inc({ target: stop.target, action: stop.action, result: 'suppressed' });
      logger.info('stop dropped: a start for the same target came in the same notification', {
        target: stop.target,
        alertname: stop.alertname,
      });
      actions.push({ target: stop.target, action: stop.action, disposition: 'suppressed', reason: 'start_wins' });
    }
    try {
      for (const intent of fresh) {
        const submitted = manager.submit(intent.target, intent.action, { origin: 'alert' });
        // Remembered as done only while it is not suppressed: a stop held back by the minimum running time or
        // the cooldown must act on the first delivery after the guard, not after the dedupe window.
        if (submitted.disposition !== 'suppressed') {
          this.acted.remember(intent.dedupeKey, intent.target, now);
          void submitted.outcome.then((outcome) => {
            if (outcome.result === 'suppressed') this.acted.forget(intent.dedupeKey);
          });
        }
        actions.push({ target: intent.target, action: intent.action, disposition: submitted.disposition, reason: submitted.reason });
      }
    } catch (err) {
      if (!(err instanceof ShuttingDownError)) throw err;
      return { outcome: 'unavailable', error: 'shutting_down' };
    }

    return {
      outcome: 'accepted',
      notification: {
        status: 'accepted',
        dryRun: this.deps.dryRun,
        actions,
        duplicates,
        ignored: plan.ignored.map((i) => ({ alertname: i.alertname, fingerprint: i.fingerprint, reason: i.reason })),
      },
    };
  }
}
