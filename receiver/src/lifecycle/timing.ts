import type { TargetConfig } from '../config/types';
import type { LifecycleAction } from './types';

/** What the receiver knows about a target's transitions, in epoch milliseconds. */
export interface TransitionHistory {
  /** The last start or stop, by us or noticed in Docker. */
  lastTransitionAt?: number;
  /** When the target (its most recently started member) began running, as Docker reports it. */
  runningSince?: number;
}

export type TimingDecision =
  | { kind: 'go' }
  /** A start inside the cooldown waits for it to end: pending work must not be stranded. */
  | { kind: 'wait'; ms: number }
  /**
   * A stop inside the cooldown or the minimum running time is dropped; the idle alert repeats. remainingMs: until
   * the stop may happen (the later end of the two guards, which reason names).
   */
  | { kind: 'suppress'; reason: 'cooldown' | 'min_running_time'; remainingMs: number };

type Timing = Pick<TargetConfig, 'cooldownSeconds' | 'minRunningSeconds'>;

/** Pure: may a transition that Docker's state calls for happen now? */
export function decideTiming(action: LifecycleAction, history: TransitionHistory, timing: Timing, now: number): TimingDecision {
  const cooldownLeft = cooldownRemainingMs(history, timing, now);
  if (action === 'start') {
    return cooldownLeft > 0 ? { kind: 'wait', ms: cooldownLeft } : { kind: 'go' };
  }
  const minRunningLeft = minRunningRemainingMs(history, timing, now);
  if (minRunningLeft <= 0 && cooldownLeft <= 0) return { kind: 'go' };
  return minRunningLeft >= cooldownLeft
    ? { kind: 'suppress', reason: 'min_running_time', remainingMs: minRunningLeft }
    : { kind: 'suppress', reason: 'cooldown', remainingMs: cooldownLeft };
}

export function cooldownRemainingMs(history: TransitionHistory, timing: Timing, now: number): number {
  if (history.lastTransitionAt === undefined) return 0;
  return Math.max(0, history.lastTransitionAt + timing.cooldownSeconds * 1000 - now);
}

export function minRunningRemainingMs(history: TransitionHistory, timing: Timing, now: number): number {
  if (history.runningSince === undefined) return 0;
  return Math.max(0, history.runningSince + timing.minRunningSeconds * 1000 - now);
}
