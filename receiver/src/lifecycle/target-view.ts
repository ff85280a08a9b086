import type { ContainerState, HealthStatus } from '../docker/controller';
import type { ActionQueue } from './action-queue';
import type { PreloadRecord } from './preload-record';
import type { LastAction, TargetState } from './target-state';
import { cooldownRemainingMs, minRunningRemainingMs } from './timing';
import type { LifecycleAction } from './types';

/** A target as GET /api/v1/targets shows it. */
export interface TargetView {
  name: string;
  /** Every configured member, in configuration order; exists, running and health are null until Docker was read. */
  members: Array<{
    ref: ContainerState['ref'];
    exists: boolean | null;
    running: boolean | null;
    health: HealthStatus | null;
    /** Swarm services only: the replica count of the service's spec and its running tasks. */
    replicas?: { desired: number; running: number };
  }>;
  desired: 'running' | 'stopped' | null;
  observed: { running: boolean | null; ready: boolean | null; at: string | null };
  inFlight: LifecycleAction | null;
  queued: LifecycleAction | null;
  lastAction: LastAction | null;
  lastTransitionAt: string | null;
  runningSince: string | null;
  cooldownSeconds: number;
  cooldownRemainingSeconds: number;
  minRunningSeconds: number;
  minRunningRemainingSeconds: number;
  /** The gateway's last model preload round (null until one was reported). */
  lastPreload: PreloadRecord | null;
}

/** Pure: the view of one target at `now`. */
export function viewTarget(state: TargetState, queue: Pick<ActionQueue, 'current' | 'next'>, now: number): TargetView {
  const { config, history } = state;
  const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
  const running = state.running === true;
  return {
    name: config.name,
    members: config.members.map((ref, i) => {
      const m = state.members[i];
      if (m === undefined) return { ref, exists: null, running: null, health: null };
      return { ref: m.ref, exists: m.exists, running: m.running, health: m.health, ...(m.replicas && { replicas: { ...m.replicas } }) };
    }),
    desired: state.desired ?? null,
    observed: { running: state.running ?? null, ready: state.ready ?? null, at: iso(state.observedAt) },
    inFlight: queue.current?.action ?? null,
    queued: queue.next?.action ?? null,
    lastAction: state.last ?? null,
    lastTransitionAt: iso(history.lastTransitionAt),
    runningSince: running ? iso(history.runningSince) : null,
    cooldownSeconds: config.cooldownSeconds,
    cooldownRemainingSeconds: cooldownRemainingMs(history, config, now) / 1000,
    minRunningSeconds: config.minRunningSeconds,
    minRunningRemainingSeconds: running ? minRunningRemainingMs(history, config, now) / 1000 : 0,
    lastPreload: state.lastPreload ?? null,
  };
}
