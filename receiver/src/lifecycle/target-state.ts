import type { TargetConfig } from '../config/types';
import type { ContainerState } from '../docker/controller';
import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';
import type { PreloadRecord } from './preload-record';
import type { ActionOutcome } from './submission';
import type { TransitionHistory } from './timing';
import type { ActionOrigin, LifecycleAction } from './types';

export interface LastAction {
  action: LifecycleAction;
  origin: ActionOrigin;
  result: ActionOutcome['result'];
  reason?: string;
  error?: string;
  at: string;
}

/**
 * What the receiver knows about one target: Docker's last answers, readiness, transitions and the last action.
 * Every change of running, ready or the last transition goes to its gauge here.
 */
export class TargetState {
  desired?: 'running' | 'stopped';
  /** Docker's answers in the order of the configured members (empty until the first read). */
  members: ContainerState[] = [];
  /** undefined until Docker has been read once. */
  running?: boolean;
  ready?: boolean;
  observedAt?: number;
  readonly history: TransitionHistory = {};
  last?: LastAction;
  /** The gateway's last model preload round after the target came up (POST /api/v1/targets/NAME/preloads). */
  lastPreload?: PreloadRecord;

  constructor(
    readonly config: TargetConfig,
    private readonly metrics: ReceiverMetrics,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /**
   * Takes in a fresh read of every member. actingNow: an action of ours runs on the target, so a change of
   * running is ours, not one made outside the receiver.
   */
  observed(states: ContainerState[], now: number, actingNow: boolean): void {
    const running = states.every((s) => s.exists && s.running);
    const before = this.running;
    this.members = states;
    this.running = running;
    this.observedAt = now;
    const started = states.filter((s) => s.running && s.startedAt).map((s) => (s.startedAt as Date).getTime());
    if (started.length > 0) this.history.runningSince = Math.max(...started);
    if (!running) this.setReady(false);
    this.metrics.targetRunning.set({ target: this.name }, running ? 1 : 0);
    if (before !== undefined && before !== running && !actingNow) {
      // Nobody here did this: somebody started or stopped a container by hand (or it crashed).
      const at = running ? (this.history.runningSince ?? now) : now;
      this.setTransition(at);
      this.logger.info('noticed a change made outside the receiver', { target: this.name, running });
    }
  }

  /** We started (running) or stopped the target just now. */
  transitioned(running: boolean, now: number): void {
    this.running = running;
    this.members = this.members.map((m) => (m.exists ? { ...m, running, replicas: replicasAfter(m, running) } : m));
    if (running) this.history.runningSince = now;
    if (!running) this.setReady(false);
    this.metrics.targetRunning.set({ target: this.name }, running ? 1 : 0);
    this.setTransition(now);
  }

  setReady(ready: boolean): void {
    this.ready = ready;
    this.metrics.targetReady.set({ target: this.name }, ready ? 1 : 0);
  }

  private setTransition(at: number): void {
    this.history.lastTransitionAt = at;
    this.metrics.targetLastTransition.set({ target: this.name }, at / 1000);
  }
}

/**
 * A Swarm member's counts once a scale has finished: a start waits until the configured replicas run (a service
 * that had more keeps them), a stop until no task runs. The next refresh reads the exact counts again.
 */
function replicasAfter(member: ContainerState, running: boolean): ContainerState['replicas'] {
  if (member.ref.kind !== 'swarm' || member.replicas === undefined) return member.replicas;
  if (!running) return { desired: 0, running: 0 };
  const desired = Math.max(member.replicas.desired, member.ref.replicas);
  return { desired, running: Math.min(desired, Math.max(member.replicas.running, member.ref.replicas)) };
}
