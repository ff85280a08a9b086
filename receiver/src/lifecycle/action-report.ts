import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';
import type { Job } from './action-queue';
import type { ActionOutcome, Step } from './submission';
import type { TargetState } from './target-state';

export interface ReportOptions {
  metrics: ReceiverMetrics;
  logger: Logger;
  dryRun: boolean;
  /** Told about every finished action, right before its outcome settles. */
  finished(outcome: ActionOutcome): void;
}

/**
 * The end of every job, run or dropped: counts it (ai_dispatcher_actions_total, and the duration of executed
 * ones), records it as the target's last action, logs one line, and settles the job's outcome.
 */
export function reportOutcome(
  o: ReportOptions,
  state: TargetState,
  job: Job,
  step: Step,
  timing: { startedAt: number; now: number; executed: boolean },
): void {
  const outcome: ActionOutcome = {
    target: state.name,
    action: job.action,
    origin: job.origin,
    durationSeconds: (timing.now - timing.startedAt) / 1000,
    ...step,
  };
  const labels = { target: outcome.target, action: outcome.action };
  if (outcome.result !== 'abandoned') o.metrics.actions.inc({ ...labels, result: outcome.result });
  if (timing.executed && outcome.result !== 'abandoned') o.metrics.actionDuration.observe(labels, outcome.durationSeconds);
  state.last = {
    action: job.action,
    origin: job.origin,
    result: outcome.result,
    reason: outcome.reason,
    error: outcome.error,
    at: new Date(timing.now).toISOString(),
  };
  const level = outcome.result === 'failed' || outcome.result === 'not_ready' ? 'warn' : 'info';
  o.logger[level]('action finished', {
    target: outcome.target,
    action: outcome.action,
    origin: outcome.origin,
    result: outcome.result,
    reason: outcome.reason,
    error: outcome.error,
    ready: outcome.ready,
    duration_seconds: outcome.durationSeconds,
    dry_run: o.dryRun || undefined,
  });
  o.finished(outcome);
  job.settle(outcome);
}
