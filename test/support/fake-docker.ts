import type { ContainerRef } from '../../receiver/src/config/types';
import {
  ContainerNotFoundError,
  DockerUnavailableError,
  type ContainerState,
  type DockerController,
  type HealthStatus,
  type StartOutcome,
  type StopOutcome,
} from '../../receiver/src/docker/controller';

export interface FakeContainer {
  running: boolean;
  health: HealthStatus;
  startedAt?: Date;
  /** Swarm services only: the spec's replica count and the running tasks. */
  replicas?: { desired: number; running: number };
}

export type FakeCall =
  | { op: 'ping' }
  | { op: 'inspect'; ref: string }
  | { op: 'start'; ref: string }
  | { op: 'stop'; ref: string; timeout: number };

/**
 * An in-memory DockerController for unit tests: containers by ref key, every call recorded,
 * the engine can be made unreachable, and start/stop can be held open to test races.
 */
export class FakeDocker implements DockerController {
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: FakeCall[] = [];
  reachable = true;
  /** When set, start/stop wait for this promise before changing anything. */
  gate: Promise<void> | undefined;
  /** Health a container gets when started (for docker_health readiness). */
  healthOnStart: HealthStatus = 'none';
  now: () => Date = () => new Date();

  add(name: string, state: Partial<FakeContainer> = {}): this {
    this.containers.set(key({ kind: 'container', name }), { running: false, health: 'none', ...state });
    return this;
  }

  addCompose(project: string, service: string, state: Partial<FakeContainer> = {}): this {
    this.containers.set(key({ kind: 'compose', project, service }), { running: false, health: 'none', ...state });
    return this;
  }

  /** A Swarm service with `desired` replicas in its spec and `running` tasks (running while at least one runs). */
  addSwarm(service: string, desired = 0, running = desired): this {
    this.containers.set(key({ kind: 'swarm', service, replicas: 1 }), {
      running: running > 0, health: 'none', replicas: { desired, running }, startedAt: running > 0 ? this.now() : undefined,
    });
    return this;
  }

  /** Simulates `docker service scale` (or tasks failing): no call is recorded. */
  setReplicas(service: string, desired: number, running = desired): void {
    const c = this.get({ kind: 'swarm', service, replicas: 1 });
    c.replicas = { desired, running };
    if (running > 0 && !c.running) c.startedAt = this.now();
    c.running = running > 0;
  }

  /** Simulates somebody using the docker CLI: no call is recorded. */
  setRunning(name: string, running: boolean): void {
    const c = this.get({ kind: 'container', name });
    c.running = running;
    c.startedAt = running ? this.now() : c.startedAt;
  }

  isRunning(name: string): boolean {
    return this.get({ kind: 'container', name }).running;
  }

  /** Start/stop calls only: what changed (or would have changed) Docker. */
  mutations(): Array<Extract<FakeCall, { op: 'start' | 'stop' }>> {
    return this.calls.filter((c): c is Extract<FakeCall, { op: 'start' | 'stop' }> => c.op === 'start' || c.op === 'stop');
  }

  async ping(): Promise<void> {
    this.calls.push({ op: 'ping' });
    this.assertReachable();
  }

  async inspect(ref: ContainerRef): Promise<ContainerState> {
    this.calls.push({ op: 'inspect', ref: key(ref) });
    this.assertReachable();
    const c = this.containers.get(key(ref));
    if (c === undefined) return { ref, exists: false, running: false, health: 'none' };
    const state: ContainerState = { ref, exists: true, id: key(ref), name: key(ref), running: c.running, health: c.health, startedAt: c.startedAt };
    if (c.replicas) state.replicas = { ...c.replicas };
    return state;
  }

  async start(ref: ContainerRef): Promise<StartOutcome> {
    this.calls.push({ op: 'start', ref: key(ref) });
    this.assertReachable();
    await this.gate;
    this.assertReachable();
    const c = this.get(ref);
    if (c.running) return 'already_running';
    // A swarm start scales to the member's replicas (a service that has more keeps them) and waits until they run.
    if (ref.kind === 'swarm' && c.replicas) {
      const desired = Math.max(c.replicas.desired, ref.replicas);
      c.replicas = { desired, running: desired };
    }
    c.running = true;
    c.health = this.healthOnStart;
    c.startedAt = this.now();
    return 'started';
  }

  async stop(ref: ContainerRef, timeoutSeconds: number): Promise<StopOutcome> {
    this.calls.push({ op: 'stop', ref: key(ref), timeout: timeoutSeconds });
    this.assertReachable();
    await this.gate;
    this.assertReachable();
    const c = this.get(ref);
    if (!c.running) return 'already_stopped';
    if (c.replicas) c.replicas = { desired: 0, running: 0 };
    c.running = false;
    return 'stopped';
  }

  private get(ref: ContainerRef): FakeContainer {
    const c = this.containers.get(key(ref));
    if (c === undefined) throw new ContainerNotFoundError(ref);
    return c;
  }

  private assertReachable(): void {
    if (!this.reachable) throw new DockerUnavailableError('connect ENOENT /fake/docker.sock');
  }
}

export function key(ref: ContainerRef): string {
  if (ref.kind === 'swarm') return `swarm:${ref.service}`;
  return ref.kind === 'container' ? ref.name : `${ref.project}/${ref.service}`;
}
