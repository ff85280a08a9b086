import type { Clock } from '../clock';
import { errorMessage } from '../error-message';
import { DockerUnavailableError, describeRef, type ContainerState, type DockerController } from '../docker/controller';
import type { Logger } from '../logger';
import { checkReadyOnce } from './readiness';
import type { TargetState } from './target-state';

/** A target as the reader sees it: its state, and whether an action of ours runs on it right now. */
export interface ReadableTarget {
  state: TargetState;
  acting(): boolean;
}

/** Reads targets' real state from Docker into their TargetState, and logs when the engine comes and goes. */
export class StateReader {
  private dockerReachable: boolean | undefined;

  constructor(
    private readonly docker: DockerController,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /** Inspects every member of the target and records the answers. */
  async observe(target: ReadableTarget): Promise<ContainerState[]> {
    const states = await Promise.all(target.state.config.members.map((m) => this.docker.inspect(m)));
    this.noteDocker(true);
    target.state.observed(states, this.clock.now(), target.acting());
    return states;
  }

  /**
   * Reads every idle target (and its readiness when it runs). Stops at the first "engine unreachable"; other
   * errors are logged per target. Never throws.
   */
  async refreshAll(targets: Iterable<ReadableTarget>, closing: () => boolean): Promise<void> {
    for (const target of targets) {
      const { state } = target;
      if (target.acting() || closing()) continue;
      const first = state.running === undefined;
      try {
        const states = await this.observe(target);
        if (state.running) {
          state.setReady(await checkReadyOnce(state.config.readiness, state.config.members, this.docker, this.signal, states));
        }
        if (first) {
          this.logger.info('target state read from docker', {
            target: state.name,
            running: state.running,
            ready: state.ready ?? false,
            members: state.members.map((m) => ({ container: describeRef(m.ref), exists: m.exists, running: m.running })),
          });
        }
      } catch (err) {
        if (err instanceof DockerUnavailableError) {
          this.noteDocker(false, err);
          return;
        }
        this.logger.warn('could not read target state', { target: state.name, error: errorMessage(err) });
      }
    }
  }

  private noteDocker(reachable: boolean, err?: unknown): void {
    if (this.dockerReachable === reachable) return;
    this.dockerReachable = reachable;
    if (reachable) this.logger.info('docker engine reachable');
    else this.logger.warn('docker engine unreachable', { error: errorMessage(err) });
  }
}
