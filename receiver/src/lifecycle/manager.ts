import type { Clock } from '../clock';
import type { ReceiverConfig, TargetConfig } from '../config/types';
import {
  ContainerNotFoundError,
  DockerApiError,
  DockerUnavailableError,
  describeRef,
  type ContainerState,
  type DockerController,
  type HealthStatus,
} from '../docker/controller';
import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';
import { checkReadyOnce, waitUntilReady } from './readiness';
import { cooldownRemainingMs, decideTiming, minRunningRemainingMs, type TransitionHistory } from './timing';
import type { ActionOrigin, ActionResult, LifecycleAction } from './types';

export interface ActionOutcome {
  target: string;
  action: LifecycleAction;
  origin: ActionOrigin;
  /** 'abandoned': shutdown cut the action short (logged, not counted). */
  result: ActionResult | 'abandoned';
  reason?: string;
  error?: string;
  /** After a start: did the readiness check pass? */
  ready?: boolean;
  durationSeconds: number;
}

/** What happened to a request at once: it runs (or waits its turn), joins an equal one, or is dropped. */
export type Disposition = 'queued' | 'coalesced' | 'suppressed';

export interface Submission {
  disposition: Disposition;
  reason?: string;
  outcome: Promise<ActionOutcome>;
}

export interface SubmitOptions {
  origin: ActionOrigin;
  /** Manual and wake calls skip the cooldown and the minimum running time. */
  force?: boolean;
}

export class ShuttingDownError extends Error {
  constructor() {
    super('the receiver is shutting down');
    this.name = 'ShuttingDownError';
  }
}

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
  lastAction: {
    action: LifecycleAction;
    origin: ActionOrigin;
    result: ActionOutcome['result'];
    reason?: string;
    error?: string;
    at: string;
  } | null;
  lastTransitionAt: string | null;
  runningSince: string | null;
  cooldownSeconds: number;
  cooldownRemainingSeconds: number;
  minRunningSeconds: number;
  minRunningRemainingSeconds: number;
}

interface Job {
  action: LifecycleAction;
  origin: ActionOrigin;
  force: boolean;
  /** Aborted when a forced request joins a start that waits out a cooldown. */
  skipWait: AbortController;
  outcome: Promise<ActionOutcome>;
  settle: (outcome: ActionOutcome) => void;
}

interface Runtime {
  config: TargetConfig;
  current?: Job;
  next?: Job;
  desired?: 'running' | 'stopped';
  members: ContainerState[];
  /** undefined until Docker has been read once. */
  running?: boolean;
  ready?: boolean;
  observedAt?: number;
  history: TransitionHistory;
  last?: TargetView['lastAction'];
}

export interface TargetManagerOptions {
  config: ReceiverConfig;
  docker: DockerController;
  logger: Logger;
  clock: Clock;
  metrics: ReceiverMetrics;
  dryRun: boolean;
  /** Told about every failed or not-ready action (the webhook forgets its duplicates then). */
  onFailure?: (target: string) => void;
}

type Step = Omit<ActionOutcome, 'target' | 'action' | 'origin' | 'durationSeconds'>;

/**
 * Runs "ensure running" / "ensure stopped" against Docker, one action at a time per target.
 * Per target there is at most one action in flight and one waiting; a start and a stop that meet: the start wins.
 */
export class TargetManager {
  private readonly targets = new Map<string, Runtime>();
  private readonly shutdown = new AbortController();
  private closing = false;
  private dockerReachable: boolean | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly o: TargetManagerOptions) {
    for (const config of o.config.targets.values()) {
      this.targets.set(config.name, { config, members: [], history: {} });
    }
  }

  has(name: string): boolean {
    return this.targets.has(name);
  }

  names(): string[] {
    return [...this.targets.keys()];
  }

  submit(name: string, action: LifecycleAction, options: SubmitOptions): Submission {
    const rt = this.runtime(name);
    if (this.closing) throw new ShuttingDownError();
    const force = options.force ?? false;
    const { current, next } = rt;

    if (action === 'stop' && (current?.action === 'start' || next?.action === 'start')) {
      return this.dropped(rt, action, options.origin, 'start_wins');
    }
    const same = next?.action === action ? next : current?.action === action && next === undefined ? current : undefined;
    if (same !== undefined) {
      if (force && !same.force) {
        same.force = true;
        same.skipWait.abort();
      }
      this.o.metrics.actions.inc({ target: name, action, result: 'noop' });
      this.o.logger.debug('joined an equal action', { target: name, action, origin: options.origin });
      return { disposition: 'coalesced', outcome: same.outcome };
    }
    if (next !== undefined) {
      // Only a waiting stop can be here (a waiting start would have been joined or would have won above).
      rt.next = undefined;
      this.finish(rt, next, Date.now(), { result: 'suppressed', reason: 'start_wins' }, false);
    }
    const job = this.newJob(action, options.origin, force);
    rt.next = job;
    rt.desired = action === 'start' ? 'running' : 'stopped';
    this.kick(rt);
    return { disposition: 'queued', outcome: job.outcome };
  }

  /** Reads every target's real state from Docker (at start-up and periodically). Never throws. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  views(): TargetView[] {
    return [...this.targets.values()].map((rt) => this.view(rt));
  }

  view(nameOrRuntime: string | Runtime): TargetView {
    const rt = typeof nameOrRuntime === 'string' ? this.runtime(nameOrRuntime) : nameOrRuntime;
    const now = this.o.clock.now();
    const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
    const running = rt.running === true;
    return {
      name: rt.config.name,
      // rt.members holds Docker's answers in the order of the configured members (empty until the first read).
      members: rt.config.members.map((ref, i) => {
        const m = rt.members[i];
        if (m === undefined) return { ref, exists: null, running: null, health: null };
        return { ref: m.ref, exists: m.exists, running: m.running, health: m.health, ...(m.replicas && { replicas: { ...m.replicas } }) };
      }),
      desired: rt.desired ?? null,
      observed: { running: rt.running ?? null, ready: rt.ready ?? null, at: iso(rt.observedAt) },
      inFlight: rt.current?.action ?? null,
      queued: rt.next?.action ?? null,
      lastAction: rt.last ?? null,
      lastTransitionAt: iso(rt.history.lastTransitionAt),
      runningSince: running ? iso(rt.history.runningSince) : null,
      cooldownSeconds: rt.config.cooldownSeconds,
      cooldownRemainingSeconds: cooldownRemainingMs(rt.history, rt.config, now) / 1000,
      minRunningSeconds: rt.config.minRunningSeconds,
      minRunningRemainingSeconds: running ? minRunningRemainingMs(rt.history, rt.config, now) / 1000 : 0,
    };
  }

  cooldowns(): Array<{ target: string; seconds: number }> {
    const now = this.o.clock.now();
    return [...this.targets.values()].map((rt) => ({
      target: rt.config.name,
      seconds: cooldownRemainingMs(rt.history, rt.config, now) / 1000,
    }));
  }

  /**
   * Stops taking work: waiting actions are dropped, readiness waits and cooldown waits are abandoned at once,
   * Docker calls already sent are allowed to finish (up to timeoutMs).
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    for (const rt of this.targets.values()) {
      if (rt.next) {
        const job = rt.next;
        rt.next = undefined;
        this.finish(rt, job, Date.now(), { result: 'abandoned', reason: 'shutdown' }, false);
      }
    }
    this.shutdown.abort(new ShuttingDownError());
    const inFlight = [...this.targets.values()].flatMap((rt) => (rt.current ? [rt.current.outcome] : []));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...inFlight, this.refreshing]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private runtime(name: string): Runtime {
    const rt = this.targets.get(name);
    if (rt === undefined) throw new Error(`unknown target "${name}"`);
    return rt;
  }

  private newJob(action: LifecycleAction, origin: ActionOrigin, force: boolean): Job {
    let settle!: (o: ActionOutcome) => void;
    const outcome = new Promise<ActionOutcome>((resolve) => {
      settle = resolve;
    });
    return { action, origin, force, skipWait: new AbortController(), outcome, settle };
  }

  private dropped(rt: Runtime, action: LifecycleAction, origin: ActionOrigin, reason: string): Submission {
    const job = this.newJob(action, origin, false);
    this.finish(rt, job, Date.now(), { result: 'suppressed', reason }, false);
    return { disposition: 'suppressed', reason, outcome: job.outcome };
  }

  private kick(rt: Runtime): void {
    if (rt.current !== undefined || rt.next === undefined) return;
    const job = rt.next;
    rt.next = undefined;
    rt.current = job;
    const startedAt = Date.now();
    void this.execute(rt, job).then((step) => {
      rt.current = undefined;
      this.finish(rt, job, startedAt, step, true);
      this.kick(rt);
    });
  }

  private async execute(rt: Runtime, job: Job): Promise<Step> {
    try {
      return job.action === 'start' ? await this.ensureRunning(rt, job) : await this.ensureStopped(rt, job);
    } catch (err) {
      if (this.shutdown.signal.aborted && !(err instanceof DockerApiError)) {
        return { result: 'abandoned', reason: 'shutdown' };
      }
      return { result: 'failed', ...failure(err) };
    }
  }

  private async ensureRunning(rt: Runtime, job: Job): Promise<Step> {
    const { config } = rt;
    let waited = false;
    for (;;) {
      const states = await this.observeOrUnknown(rt);
      if (states === undefined) return { result: 'dry_run', reason: 'would start; state unknown: docker unreachable' };
      const missing = states.find((s) => !s.exists);
      if (missing) return { result: 'failed', reason: 'container_missing', error: `no container matches ${describeRef(missing.ref)}` };

      if (states.every((s) => s.running)) {
        if (this.o.dryRun) return { result: 'noop', ready: rt.ready };
        const ready = (await waitUntilReady(config.readiness, config.members, this.o.docker, this.o.clock, this.shutdown.signal)) === 'ready';
        this.setReady(rt, ready);
        return ready ? { result: 'noop', ready } : { result: 'not_ready', reason: 'running but not ready', ready };
      }

      if (!job.force && !waited) {
        const timing = decideTiming('start', rt.history, config, this.o.clock.now());
        if (timing.kind === 'wait') {
          if (this.o.dryRun) return { result: 'dry_run', reason: `would start after the cooldown (${seconds(timing.ms)} s)` };
          this.o.logger.info('start waits for the cooldown', { target: config.name, origin: job.origin, wait_seconds: seconds(timing.ms) });
          await this.sleepUnlessSkipped(timing.ms, job);
          waited = true;
          continue;
        }
      }
      if (this.o.dryRun) return { result: 'dry_run', reason: 'would start' };

      let started = false;
      for (const s of states) if (!s.running && (await this.o.docker.start(s.ref)) === 'started') started = true;
      this.noteTransition(rt, true);
      const begun = this.o.clock.now();
      const readiness = await waitUntilReady(config.readiness, config.members, this.o.docker, this.o.clock, this.shutdown.signal);
      this.o.metrics.readinessWait.observe({ target: config.name, result: readiness }, (this.o.clock.now() - begun) / 1000);
      this.setReady(rt, readiness === 'ready');
      if (readiness !== 'ready') return { result: 'not_ready', reason: `not ready within ${readinessTimeout(config)} s`, ready: false };
      // Every start answered 304: somebody else (another receiver, a person) started it between our look and our call.
      return started ? { result: 'success', ready: true } : { result: 'noop', reason: 'already started elsewhere', ready: true };
    }
  }

  private async ensureStopped(rt: Runtime, job: Job): Promise<Step> {
    const { config } = rt;
    const states = await this.observeOrUnknown(rt);
    if (states === undefined) return { result: 'dry_run', reason: 'would stop; state unknown: docker unreachable' };
    const running = states.filter((s) => s.exists && s.running);
    if (running.length === 0) return { result: 'noop' };
    if (!job.force) {
      const timing = decideTiming('stop', rt.history, config, this.o.clock.now());
      if (timing.kind === 'suppress') {
        return { result: 'suppressed', reason: `${timing.reason} (${secondsLeft(timing.remainingMs)} s left)` };
      }
    }
    if (this.o.dryRun) return { result: 'dry_run', reason: 'would stop' };
    let stopped = false;
    for (const s of [...running].reverse()) if ((await this.o.docker.stop(s.ref, config.stopTimeoutSeconds)) === 'stopped') stopped = true;
    this.noteTransition(rt, false);
    return stopped ? { result: 'success' } : { result: 'noop', reason: 'already stopped elsewhere' };
  }

  private async sleepUnlessSkipped(ms: number, job: Job): Promise<void> {
    try {
      await this.o.clock.sleep(ms, AbortSignal.any([this.shutdown.signal, job.skipWait.signal]));
    } catch (err) {
      if (this.shutdown.signal.aborted) throw err;
    }
  }

  /** Inspects every member; in dry-run an unreachable engine is "unknown" (undefined) instead of a failure. */
  private async observeOrUnknown(rt: Runtime): Promise<ContainerState[] | undefined> {
    try {
      return await this.observe(rt);
    } catch (err) {
      if (this.o.dryRun && err instanceof DockerUnavailableError) return undefined;
      throw err;
    }
  }

  private async observe(rt: Runtime): Promise<ContainerState[]> {
    const states = await Promise.all(rt.config.members.map((m) => this.o.docker.inspect(m)));
    this.noteDocker(true);
    const running = states.every((s) => s.exists && s.running);
    const before = rt.running;
    rt.members = states;
    rt.running = running;
    rt.observedAt = this.o.clock.now();
    const started = states.filter((s) => s.running && s.startedAt).map((s) => (s.startedAt as Date).getTime());
    if (started.length > 0) rt.history.runningSince = Math.max(...started);
    if (!running) this.setReady(rt, false);
    this.o.metrics.targetRunning.set({ target: rt.config.name }, running ? 1 : 0);
    if (before !== undefined && before !== running && rt.current === undefined) {
      // Nobody here did this: somebody started or stopped a container by hand (or it crashed).
      const at = running ? (rt.history.runningSince ?? this.o.clock.now()) : this.o.clock.now();
      this.setTransition(rt, at);
      this.o.logger.info('noticed a change made outside the receiver', { target: rt.config.name, running });
    }
    return states;
  }

  private async refreshAll(): Promise<void> {
    for (const rt of this.targets.values()) {
      if (rt.current !== undefined || this.closing) continue;
      const first = rt.running === undefined;
      try {
        const states = await this.observe(rt);
        if (rt.running) {
          this.setReady(rt, await checkReadyOnce(rt.config.readiness, rt.config.members, this.o.docker, this.shutdown.signal, states));
        }
        if (first) {
          this.o.logger.info('target state read from docker', {
            target: rt.config.name,
            running: rt.running,
            ready: rt.ready ?? false,
            members: rt.members.map((m) => ({ container: describeRef(m.ref), exists: m.exists, running: m.running })),
          });
        }
      } catch (err) {
        if (err instanceof DockerUnavailableError) {
          this.noteDocker(false, err);
          return;
        }
        this.o.logger.warn('could not read target state', { target: rt.config.name, error: errorMessage(err) });
      }
    }
  }

  private noteDocker(reachable: boolean, err?: unknown): void {
    if (this.dockerReachable === reachable) return;
    this.dockerReachable = reachable;
    if (reachable) this.o.logger.info('docker engine reachable');
    else this.o.logger.warn('docker engine unreachable', { error: errorMessage(err) });
  }

  private noteTransition(rt: Runtime, running: boolean): void {
    const now = this.o.clock.now();
    rt.running = running;
    rt.members = rt.members.map((m) => (m.exists ? { ...m, running, replicas: replicasAfter(m, running) } : m));
    if (running) rt.history.runningSince = now;
    if (!running) this.setReady(rt, false);
    this.o.metrics.targetRunning.set({ target: rt.config.name }, running ? 1 : 0);
    this.setTransition(rt, now);
  }

  private setTransition(rt: Runtime, at: number): void {
    rt.history.lastTransitionAt = at;
    this.o.metrics.targetLastTransition.set({ target: rt.config.name }, at / 1000);
  }

  private setReady(rt: Runtime, ready: boolean): void {
    rt.ready = ready;
    this.o.metrics.targetReady.set({ target: rt.config.name }, ready ? 1 : 0);
  }

  private finish(rt: Runtime, job: Job, startedAt: number, step: Step, executed: boolean): void {
    const outcome: ActionOutcome = {
      target: rt.config.name,
      action: job.action,
      origin: job.origin,
      durationSeconds: (Date.now() - startedAt) / 1000,
      ...step,
    };
    const labels = { target: outcome.target, action: outcome.action };
    if (outcome.result !== 'abandoned') this.o.metrics.actions.inc({ ...labels, result: outcome.result });
    if (executed && outcome.result !== 'abandoned') this.o.metrics.actionDuration.observe(labels, outcome.durationSeconds);
    rt.last = {
      action: job.action,
      origin: job.origin,
      result: outcome.result,
      reason: outcome.reason,
      error: outcome.error,
      at: new Date(this.o.clock.now()).toISOString(),
    };
    const level = outcome.result === 'failed' || outcome.result === 'not_ready' ? 'warn' : 'info';
    this.o.logger[level]('action finished', {
      target: outcome.target,
      action: outcome.action,
      origin: outcome.origin,
      result: outcome.result,
      reason: outcome.reason,
      error: outcome.error,
      ready: outcome.ready,
      duration_seconds: outcome.durationSeconds,
      dry_run: this.o.dryRun || undefined,
    });
    if (outcome.result === 'failed' || outcome.result === 'not_ready') this.o.onFailure?.(outcome.target);
    job.settle(outcome);
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

function failure(err: unknown): { reason: string; error: string } {
  if (err instanceof DockerUnavailableError) return { reason: 'docker_unavailable', error: err.message };
  if (err instanceof ContainerNotFoundError) return { reason: 'container_missing', error: err.message };
  if (err instanceof DockerApiError) return { reason: 'docker_error', error: err.message };
  return { reason: 'internal_error', error: errorMessage(err) };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** Rounded up to 0.1 s: a guard that has not ended never reads "0 s left". */
function secondsLeft(ms: number): number {
  return Math.ceil(ms / 100) / 10;
}

function readinessTimeout(config: TargetConfig): number {
  return config.readiness.type === 'running' ? 0 : config.readiness.timeoutSeconds;
}
