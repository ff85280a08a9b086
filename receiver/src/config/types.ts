/**
 * How a configured target member is found: by container name, by compose project/service labels, or a
 * Docker Swarm service (running = scaled to `replicas`, stopped = scaled to 0). Each kind has its driver in
 * receiver/src/docker/ (container-member.ts, compose-member.ts, swarm-member.ts).
 */
export type ContainerRef =
  | { kind: 'container'; name: string }
  | { kind: 'compose'; project: string; service: string }
  | { kind: 'swarm'; service: string; replicas: number };

/** How the receiver decides that a started target can serve requests. */
export type ReadinessConfig =
  | { type: 'http'; url: string; timeoutSeconds: number; intervalSeconds: number; probeTimeoutSeconds: number }
  | { type: 'docker_health'; timeoutSeconds: number; intervalSeconds: number }
  | { type: 'running' };

export interface TargetConfig {
  name: string;
  /** Started in this order, stopped in the reverse order. */
  members: ContainerRef[];
  readiness: ReadinessConfig;
  /** A target that runs for less than this is not stopped by an idle alert. */
  minRunningSeconds: number;
  /** No transition (start or stop) within this time after the previous one; a start waits, a stop is dropped. */
  cooldownSeconds: number;
  /** Docker stop timeout: SIGTERM, then SIGKILL after this many seconds. */
  stopTimeoutSeconds: number;
}

export type ResolvedHandling = 'ignore' | 'reverse';

export interface DockerConnectionConfig {
  socketPath?: string;
  /** e.g. tcp://127.0.0.1:2375; wins over socketPath. */
  host?: string;
  timeoutSeconds: number;
}

export interface AuthConfig {
  disabled: boolean;
  /** When set, basic auth must use this user name; the password is always the token. */
  basicUsername?: string;
}

export interface ReceiverConfig {
  listen: { host: string; port: number };
  auth: AuthConfig;
  docker: DockerConnectionConfig;
  webhook: {
    bodyLimitBytes: number;
    /** A repeated alert (same fingerprint, startsAt, action) within this window acts once. */
    dedupeWindowSeconds: number;
    resolved: ResolvedHandling;
  };
  /** How often the targets' real state is read from Docker. */
  refreshIntervalSeconds: number;
  /** On SIGTERM, how long in-flight actions may take before they are abandoned. */
  shutdownTimeoutSeconds: number;
  /** Upper bound for the wake call's wait. */
  wakeTimeoutSeconds: number;
  /** Keyed by group name, in configuration order. */
  targets: Map<string, TargetConfig>;
}
