/**
 * The receiver's only door to Docker. The app and the planner see this interface; the dockerode
 * implementation (dockerode-controller.ts, one driver per member kind) lives beside it, and unit tests use a fake.
 */
import type { ContainerRef } from '../config/types';

export type HealthStatus = 'healthy' | 'unhealthy' | 'starting' | 'none';

export interface ContainerState {
  /** The ref that was looked up, so callers can match answers to members. */
  ref: ContainerRef;
  /** False when no container matches the ref (removed, never created). */
  exists: boolean;
  id?: string;
  name?: string;
  running: boolean;
  /** Docker healthcheck status; 'none' when the container has no healthcheck. */
  health: HealthStatus;
  startedAt?: Date;
  /** Swarm services only: the spec's replica count and the tasks running now (running = at least one). */
  replicas?: { desired: number; running: number };
}

export type StartOutcome = 'started' | 'already_running';
export type StopOutcome = 'stopped' | 'already_stopped';

/** One kind of member (container, compose service, Swarm service) on the engine: what the controller asks of it. */
export interface MemberDriver<R extends ContainerRef> {
  inspect(ref: R): Promise<ContainerState>;
  start(ref: R): Promise<StartOutcome>;
  /** timeoutSeconds: a whole number of seconds (the controller rounds up). */
  stop(ref: R, timeoutSeconds: number): Promise<StopOutcome>;
}

export interface DockerController {
  /** Resolves when the engine answers; rejects with DockerUnavailableError otherwise. */
  ping(): Promise<void>;
  inspect(ref: ContainerRef): Promise<ContainerState>;
  /** Ensure running: a container that already runs (HTTP 304) is 'already_running', not an error. */
  start(ref: ContainerRef): Promise<StartOutcome>;
  /** Ensure stopped: SIGTERM, then SIGKILL after timeoutSeconds; a stopped container (304) is 'already_stopped'. */
  stop(ref: ContainerRef, timeoutSeconds: number): Promise<StopOutcome>;
}

/** The engine cannot be reached (socket missing, connection refused, timeout): a retry can help. */
export class DockerUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'DockerUnavailableError';
  }
}

/** No container matches the ref: a retry will not help until somebody creates it. */
export class ContainerNotFoundError extends Error {
  constructor(readonly ref: ContainerRef) {
    super(`no container matches ${describeRef(ref)}`);
    this.name = 'ContainerNotFoundError';
  }
}

/** The engine answered with an error we do not expect (e.g. 403 from a socket proxy, 500). */
export class DockerApiError extends Error {
  constructor(message: string, readonly statusCode?: number, readonly cause?: unknown) {
    super(message);
    this.name = 'DockerApiError';
  }
}

export function describeRef(ref: ContainerRef): string {
  if (ref.kind === 'swarm') return `swarm service "${ref.service}"`;
  return ref.kind === 'container' ? `container "${ref.name}"` : `compose service "${ref.project}/${ref.service}"`;
}
