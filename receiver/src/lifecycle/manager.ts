import type { Clock } from '../clock';
import type { ReceiverConfig } from '../config/types';
import type { DockerController } from '../docker/controller';
import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';
import { ActionQueue } from './action-queue';
import { reportOutcome, type ReportOptions } from './action-report';
import { ActionExecutor } from './executor';
import type { PreloadRecord } from './preload-record';
import { StateReader, type ReadableTarget } from './state-reader';
import { ShuttingDownError, type ActionOutcome, type Submission, type SubmitOptions } from './submission';
import { TargetState } from './target-state';
import { viewTarget, type TargetView } from './target-view';
import { cooldownRemainingMs } from './timing';
import type { LifecycleAction } from './types';

export interface TargetManagerOptions {
  config: ReceiverConfig;
  docker: DockerController;
  logger: Logger;
  clock: Clock;
  metrics: ReceiverMetrics;
  dryRun: boolean;
}

interface Target extends ReadableTarget {
  queue: ActionQueue;
}

/**
 * Runs "ensure running" / "ensure stopped" against Docker, one action at a time per target.
 * Per target there is at most one action in flight and one waiting (ActionQueue); ActionExecutor carries an
 * action out, TargetState holds what is known, StateReader reads Docker, reportOutcome counts and logs.
 */
export class TargetManager {
  private readonly targets = new Map<string, Target>();
  private readonly shutdown = new AbortController();
  private readonly reader: StateReader;
  private readonly executor: ActionExecutor;
  private readonly listeners: Array<(outcome: ActionOutcome) => void> = [];
  private closing = false;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly o: TargetManagerOptions) {
    this.reader = new StateReader(o.docker, o.clock, o.logger, this.shutdown.signal);
    this.executor = new ActionExecutor({ ...o, reader: this.reader, shutdown: this.shutdown.signal });
    const report: ReportOptions = {
      metrics: o.metrics,
      logger: o.logger,
      dryRun: o.dryRun,
      finished: (outcome) => {
        for (const listener of this.listeners) listener(outcome);
      },
    };
    for (const config of o.config.targets.values()) {
      const state = new TargetState(config, o.metrics, o.logger);
      const target: Target = {
        state,
        acting: () => target.queue.current !== undefined,
        queue: new ActionQueue({
          run: (job) => this.executor.run(target, job),
          finish: (job, startedAt, step, executed) =>
            reportOutcome(report, state, job, step, { startedAt, now: o.clock.now(), executed }),
          joined: (job, origin) => {
            o.metrics.actions.inc({ target: config.name, action: job.action, result: 'noop' });
            o.logger.debug('joined an equal action', { target: config.name, action: job.action, origin });
          },
          now: () => o.clock.now(),
        }),
      };
      this.targets.set(config.name, target);
    }
  }

  has(name: string): boolean {
    return this.targets.has(name);
  }

  names(): string[] {
    return [...this.targets.keys()];
  }

  submit(name: string, action: LifecycleAction, options: SubmitOptions): Submission {
    const target = this.target(name);
    if (this.closing) throw new ShuttingDownError();
    const submitted = target.queue.submit(action, options.origin, options.force ?? false);
    if (submitted.disposition === 'queued') target.state.desired = action === 'start' ? 'running' : 'stopped';
    return submitted;
  }

  /** Calls the listener with the outcome of every action from now on (submitted by anyone), before it settles. */
  onFinished(listener: (outcome: ActionOutcome) => void): void {
    this.listeners.push(listener);
  }

  /** Reads every target's real state from Docker (at start-up and periodically). Never throws. */
  refresh(): Promise<void> {
    this.refreshing ??= this.reader.refreshAll(this.targets.values(), () => this.closing).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  views(): TargetView[] {
    const now = this.o.clock.now();
    return [...this.targets.values()].map((t) => viewTarget(t.state, t.queue, now));
  }

  view(name: string): TargetView {
    const target = this.target(name);
    return viewTarget(target.state, target.queue, this.o.clock.now());
  }

  /** Keeps the gateway's last preload round of the target (shown in its view). */
  recordPreload(name: string, record: PreloadRecord): void {
    this.target(name).state.lastPreload = record;
  }

  cooldowns(): Array<{ target: string; seconds: number }> {
    const now = this.o.clock.now();
    return [...this.targets.values()].map(({ state }) => ({
      target: state.name,
      seconds: cooldownRemainingMs(state.history, state.config, now) / 1000,
    }));
  }

  /**
   * Stops taking work: waiting actions are dropped, readiness waits and cooldown waits are abandoned at once,
   * Docker calls already sent are allowed to finish (up to timeoutMs of real time: a bound on the engine, which
   * a test's manual clock does not drive).
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    for (const { queue } of this.targets.values()) queue.dropWaiting({ result: 'abandoned', reason: 'shutdown' });
    this.shutdown.abort(new ShuttingDownError());
    const inFlight = [...this.targets.values()].flatMap(({ queue }) => (queue.current ? [queue.current.outcome] : []));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...inFlight, this.refreshing]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private target(name: string): Target {
    const target = this.targets.get(name);
    if (target === undefined) throw new Error(`unknown target "${name}"`);
    return target;
  }
}
