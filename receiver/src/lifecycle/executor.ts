import type { Clock } from '../clock';
import type { TargetConfig } from '../config/types';
import {
  ContainerNotFoundError,
  DockerApiError,
  DockerUnavailableError,
  describeRef,
  type ContainerState,
  type DockerController,
} from '../docker/controller';
import { errorMessage } from '../error-message';
import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';
import type { Job } from './action-queue';
import { waitUntilReady } from './readiness';
import type { ReadableTarget, StateReader } from './state-reader';
import type { Step } from './submission';
import { decideTiming } from './timing';

export interface ExecutorOptions {
  docker: DockerController;
  clock: Clock;
  logger: Logger;
  metrics: ReceiverMetrics;
  reader: StateReader;
  dryRun: boolean;
  /** Aborts on shutdown: waits end at once, Docker calls already sent may finish. */
  shutdown: AbortSignal;
}

/** Carries out one job against Docker: "ensure running" or "ensure stopped", with the timing guards. */
export class ActionExecutor {
  constructor(private readonly o: ExecutorOptions) {}

  /** Never rejects: a failure is a 'failed' step, a shutdown an 'abandoned' one. */
  async run(target: ReadableTarget, job: Job): Promise<Step> {
    try {
      return job.action === 'start' ? await this.ensureRunning(target, job) : await this.ensureStopped(target, job);
    } catch (err) {
      if (this.o.shutdown.aborted && !(err instanceof DockerApiError)) {
        return { result: 'abandoned', reason: 'shutdown' };
      }
      return { result: 'failed', ...failure(err) };
    }
  }

  private async ensureRunning(target: ReadableTarget, job: Job): Promise<Step> {
    const { state } = target;
    const { config } = state;
    let waited = false;
    for (;;) {
      const states = await this.observeOrUnknown(target);
      if (states === undefined) return { result: 'dry_run', reason: 'would start; state unknown: docker unreachable' };
      const missing = states.find((s) => !s.exists);
      if (missing) return { result: 'failed', reason: 'container_missing', error: `no container matches ${describeRef(missing.ref)}` };

      if (states.every((s) => s.running)) {
        if (this.o.dryRun) return { result: 'noop', ready: state.ready };
        const ready = (await waitUntilReady(config.readiness, config.members, this.o.docker, this.o.clock, this.o.shutdown)) === 'ready';
        state.setReady(ready);
        return ready ? { result: 'noop', ready } : { result: 'not_ready', reason: 'running but not ready', ready };
      }

      if (!job.force && !waited) {
        const timing = decideTiming('start', state.history, config, this.o.clock.now());
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
      state.transitioned(true, this.o.clock.now());
      const begun = this.o.clock.now();
      const readiness = await waitUntilReady(config.readiness, config.members, this.o.docker, this.o.clock, this.o.shutdown);
      this.o.metrics.readinessWait.observe({ target: config.name, result: readiness }, (this.o.clock.now() - begun) / 1000);
      state.setReady(readiness === 'ready');
      if (readiness !== 'ready') return { result: 'not_ready', reason: `not ready within ${readinessTimeout(config)} s`, ready: false };
      // Every start answered 304: somebody else (another receiver, a person) started it between our look and our call.
      return started ? { result: 'success', ready: true } : { result: 'noop', reason: 'already started elsewhere', ready: true };
    }
  }

  private async ensureStopped(target: ReadableTarget, job: Job): Promise<Step> {
    const { state } = target;
    const { config } = state;
    const states = await this.observeOrUnknown(target);
    if (states === undefined) return { result: 'dry_run', reason: 'would stop; state unknown: docker unreachable' };
    const running = states.filter((s) => s.exists && s.running);
    if (running.length === 0) return { result: 'noop' };
    if (!job.force) {
      const timing = decideTiming('stop', state.history, config, this.o.clock.now());
      if (timing.kind === 'suppress') {
        return { result: 'suppressed', reason: `${timing.reason} (${secondsLeft(timing.remainingMs)} s left)` };
      }
    }
    if (this.o.dryRun) return { result: 'dry_run', reason: 'would stop' };
    let stopped = false;
    for (const s of [...running].reverse()) if ((await this.o.docker.stop(s.ref, config.stopTimeoutSeconds)) === 'stopped') stopped = true;
    state.transitioned(false, this.o.clock.now());
    return stopped ? { result: 'success' } : { result: 'noop', reason: 'already stopped elsewhere' };
  }

  private async sleepUnlessSkipped(ms: number, job: Job): Promise<void> {
    try {
      await this.o.clock.sleep(ms, AbortSignal.any([this.o.shutdown, job.skipWait.signal]));
    } catch (err) {
      if (this.o.shutdown.aborted) throw err;
    }
  }

  /** Inspects every member; in dry-run an unreachable engine is "unknown" (undefined) instead of a failure. */
  private async observeOrUnknown(target: ReadableTarget): Promise<ContainerState[] | undefined> {
    try {
      return await this.o.reader.observe(target);
    } catch (err) {
      if (this.o.dryRun && err instanceof DockerUnavailableError) return undefined;
      throw err;
    }
  }
}

function failure(err: unknown): { reason: string; error: string } {
  if (err instanceof DockerUnavailableError) return { reason: 'docker_unavailable', error: err.message };
  if (err instanceof ContainerNotFoundError) return { reason: 'container_missing', error: err.message };
  if (err instanceof DockerApiError) return { reason: 'docker_error', error: err.message };
  return { reason: 'internal_error', error: errorMessage(err) };
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
