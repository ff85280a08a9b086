/**
 * DockerController on the Docker Engine API through dockerode.
 *
 * Engine API calls made, and nothing else (a socket proxy needs to allow exactly these):
 *   GET  /_ping                          ping()
 *   GET  /containers/{id}/json           inspect a container by name or id
 *   GET  /containers/json?all=1&filters  compose refs: containers by project/service labels
 *   POST /containers/{id}/start          start()
 *   POST /containers/{id}/stop?t=N       stop()
 * A `container:` member is inspected, started and stopped by its name (and never listed), so a socket proxy
 * can allow exactly /containers/NAME/{json,start,stop} for the configured names, with no API version prefix
 * (socket-proxy-allowlist.ts generates that allowlist). A `compose:` member needs the list and actions by id,
 * which no path allowlist can pin to the target.
 * Swarm service members (swarm-service.ts) add, on a swarm manager:
 *   GET  /services/{name}                inspect (whole Spec, Version.Index)
 *   POST /services/{id}/update?version=N scale (the same Spec, another replica count)
 *   GET  /tasks?filters={"service":[id]} the service's tasks
 * With tecnativa/docker-socket-proxy: SERVICES=1, TASKS=1, POST=1. A proxy that allows service updates
 * lets a client change any service's spec (image, mounts); the receiver only ever changes the count.
 *
 * Docker resolves /containers/{x} by full id, then by name, then by id prefix, so a name is accepted only when
 * the engine's answer carries exactly that name; compose members are acted on by id.
 * A compose ref is every container with both labels except one-off `compose run` containers; actions
 * apply to each of them, and inspect() reports the group as running only when all of them run.
 */
import Docker from 'dockerode';
import { systemClock, type Clock } from '../clock';
import { ServiceNotFoundError, dockerodeSwarmApi, readService, scaleService } from './swarm-service';
import {
  ContainerNotFoundError,
  ContainerRef,
  ContainerState,
  DockerApiError,
  DockerController,
  DockerUnavailableError,
  HealthStatus,
  StartOutcome,
  StopOutcome,
  describeRef,
} from './controller';

export interface DockerodeControllerOptions {
  /** Unix socket of the engine (default /var/run/docker.sock when no host is given). */
  socketPath?: string;
  /** TCP host of the engine (DOCKER_HOST=tcp://host:port style); takes precedence over socketPath. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  /** Upper bound for one API call; stop() adds its own grace period on top. Default 5000 ms. */
  timeoutMs?: number;
  /** Swarm services: how long start() waits for the tasks to run, stop() on top of its grace period. Default 60000 ms. */
  serviceWaitMs?: number;
  /** Time for the Swarm waits (default: the system clock). */
  clock?: Clock;
}

/** Turns a DOCKER_HOST value (unix:///path, tcp://host:port, http(s)://host:port) into options. */
export function parseDockerHost(value: string): Pick<DockerodeControllerOptions, 'socketPath' | 'host' | 'port' | 'protocol'> {
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new Error(`Docker host "${value}": a unix socket path must be absolute`);
    return { socketPath };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Docker host "${value}" is neither unix:///path nor tcp://host:port`);
  }
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol) || !url.hostname) {
    throw new Error(`Docker host "${value}" is neither unix:///path nor tcp://host:port`);
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port ? Number(url.port) : protocol === 'https' ? 2376 : 2375;
  // URL keeps IPv6 literals in brackets; Node's http wants the bare address.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, protocol };
}

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const NEVER_STARTED = '0001-01-01T00:00:00Z';
const UNREACHABLE_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'EAI_AGAIN', 'ENOTFOUND', 'EACCES', 'ENOTSOCK', 'ECONNABORTED', 'ABORT_ERR', 'ERR_SOCKET_CLOSED',
]);

type SwarmRef = Extract<ContainerRef, { kind: 'swarm' }>;

interface Resolved {
  id: string;
  name: string;
  running: boolean;
  health: HealthStatus;
  startedAt?: Date;
}

export function createDockerodeController(options: DockerodeControllerOptions = {}): DockerController {
  const docker = options.host
    ? new Docker({ host: options.host, port: options.port ?? 2375, protocol: options.protocol ?? 'http' })
    : new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
  const timeoutMs = options.timeoutMs ?? 5000;
  const serviceWaitMs = options.serviceWaitMs ?? 60_000;
  const clock = options.clock ?? systemClock;

  /** Runs one API call bounded by a deadline and translates its failure into the controller's errors. */
  async function call<T>(what: string, run: (signal: AbortSignal) => Promise<T>, extraMs = 0): Promise<T> {
    const limit = timeoutMs + extraMs;
    const signal = AbortSignal.timeout(limit);
    try {
      return await run(signal);
    } catch (error) {
      throw translate(error, what, limit);
    }
  }

  async function inspectById(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await call(`inspect ${idOrName}`, (abortSignal) => docker.getContainer(idOrName).inspect({ abortSignal }));
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  const swarmApi = dockerodeSwarmApi(docker, (what, run) => call(what, run));

  async function inspectService(ref: SwarmRef): Promise<ContainerState> {
    const status = await readService(swarmApi, ref.service);
    if (!status) return { ref, exists: false, running: false, health: 'none' };
    return {
      ref,
      exists: true,
      id: status.id,
      name: status.name,
      running: status.runningTasks >= 1,
      // Swarm keeps a task out of `running` until its healthcheck passes, and replaces it when it fails.
      health: 'none',
      startedAt: status.startedAt,
      replicas: { desired: status.desiredReplicas, running: status.runningTasks },
    };
  }

  async function scale(ref: SwarmRef, replicas: number, waitMs: number): Promise<boolean> {
    try {
      return (await scaleService(swarmApi, ref.service, replicas, { waitMs, keepHigher: replicas > 0, clock })).changed;
    } catch (error) {
      if (error instanceof ServiceNotFoundError) throw new ContainerNotFoundError(ref);
      throw error;
    }
  }

  async function resolve(ref: Exclude<ContainerRef, SwarmRef>): Promise<Resolved[]> {
    if (ref.kind === 'container') {
      if (!CONTAINER_NAME.test(ref.name)) return [];
      const info = await inspectById(ref.name);
      // Docker falls back to id-prefix matching: accept only the container that bears exactly this name.
      if (!info || info.Name !== `/${ref.name}`) return [];
      return [fromInspect(info)];
    }
    const listed = await call(`list ${describeRef(ref)}`, (abortSignal) =>
      docker.listContainers({
        all: true,
        filters: { label: [`${COMPOSE_PROJECT}=${ref.project}`, `${COMPOSE_SERVICE}=${ref.service}`] },
        abortSignal,
      }),
    );
    const members = listed
      .filter((c) => c.Labels?.[COMPOSE_PROJECT] === ref.project && c.Labels?.[COMPOSE_SERVICE] === ref.service)
      .filter((c) => c.Labels?.[COMPOSE_ONEOFF] !== 'True')
      .sort((a, b) => (a.Names?.[0] ?? a.Id).localeCompare(b.Names?.[0] ?? b.Id));
    // The list has no health or start time: inspect each (a member removed meanwhile drops out).
    const infos = await Promise.all(members.map((member) => inspectById(member.Id)));
    return infos.filter((info): info is Docker.ContainerInspectInfo => info !== undefined).map(fromInspect);
  }

  async function resolveExisting(ref: Exclude<ContainerRef, SwarmRef>): Promise<Resolved[]> {
    const members = await resolve(ref);
    if (members.length === 0) throw new ContainerNotFoundError(ref);
    return members;
  }

  return {
    async ping() {
      // @types/dockerode omits ping's options argument; dockerode 5 accepts { abortSignal }.
      const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
      await call('ping', (abortSignal) => ping({ abortSignal }));
    },

    async inspect(ref) {
      if (ref.kind === 'swarm') return inspectService(ref);
      return summarize(ref, await resolve(ref));
    },

    async start(ref) {
      // A service scaled to its replicas (or higher) whose tasks run already: nothing to update.
      if (ref.kind === 'swarm') return (await scale(ref, ref.replicas, serviceWaitMs)) ? 'started' : 'already_running';
      let outcome: StartOutcome = 'already_running';
      for (const member of await resolveExisting(ref)) {
        try {
          await call(`start ${member.name}`, (abortSignal) => docker.getContainer(actionPath(ref, member)).start({ abortSignal }));
          outcome = 'started';
        } catch (error) {
          if (error instanceof DockerApiError && error.statusCode === 304) continue;
          throw notFoundFor(ref, error);
        }
      }
      return outcome;
    },

    async stop(ref, timeoutSeconds) {
      const t = Math.max(0, Math.ceil(timeoutSeconds));
      // Swarm stops tasks with the service's own stop grace period; t only stretches the wait.
      if (ref.kind === 'swarm') return (await scale(ref, 0, t * 1000 + serviceWaitMs)) ? 'stopped' : 'already_stopped';
      let outcome: StopOutcome = 'already_stopped';
      for (const member of await resolveExisting(ref)) {
        try {
          // The engine waits up to t seconds before SIGKILL: the call may take that long on top.
          await call(`stop ${member.name}`, (abortSignal) => docker.getContainer(actionPath(ref, member)).stop({ t, abortSignal }), t * 1000);
          outcome = 'stopped';
        } catch (error) {
          if (error instanceof DockerApiError && error.statusCode === 304) continue;
          throw notFoundFor(ref, error);
        }
      }
      return outcome;
    },
  };
}

/**
 * Where an action goes: a container ref by its name (already checked to be exactly that container's name, so
 * a socket proxy can pin its allowlist to the configured names), a compose ref's members by id.
 */
function actionPath(ref: Exclude<ContainerRef, SwarmRef>, member: Resolved): string {
  return ref.kind === 'container' ? ref.name : member.id;
}

/** A member removed between lookup and action is a missing container, not an API failure. */
function notFoundFor(ref: ContainerRef, error: unknown): unknown {
  return error instanceof DockerApiError && error.statusCode === 404 ? new ContainerNotFoundError(ref) : error;
}

function fromInspect(info: Docker.ContainerInspectInfo): Resolved {
  const health = info.State.Health?.Status;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    running: info.State.Running === true,
    health: health === 'healthy' || health === 'unhealthy' || health === 'starting' ? health : 'none',
    startedAt: info.State.StartedAt && info.State.StartedAt !== NEVER_STARTED ? new Date(info.State.StartedAt) : undefined,
  };
}

const HEALTH_RANK: Record<HealthStatus, number> = { unhealthy: 3, starting: 2, healthy: 1, none: 0 };

function summarize(ref: Exclude<ContainerRef, SwarmRef>, members: Resolved[]): ContainerState {
  if (members.length === 0) return { ref, exists: false, running: false, health: 'none' };
  const first = members[0]!;
  const health = members.reduce<HealthStatus>(
    (worst, m) => (HEALTH_RANK[m.health] > HEALTH_RANK[worst] ? m.health : worst),
    members.every((m) => m.health === 'none') ? 'none' : 'healthy',
  );
  const starts = members.map((m) => m.startedAt?.getTime()).filter((t): t is number => t !== undefined);
  return {
    ref,
    exists: true,
    id: first.id,
    name: first.name,
    running: members.every((m) => m.running),
    health,
    startedAt: starts.length > 0 ? new Date(Math.max(...starts)) : undefined,
  };
}

function translate(error: unknown, what: string, limitMs: number): Error {
  if (error instanceof DockerUnavailableError || error instanceof DockerApiError || error instanceof ContainerNotFoundError) {
    return error;
  }
  const e = error as { statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown; json?: unknown };
  if (typeof e?.statusCode === 'number') {
    return new DockerApiError(`Docker ${what}: HTTP ${e.statusCode} ${engineMessage(e.json, e.message)}`, e.statusCode, error);
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new DockerUnavailableError(`Docker ${what}: no answer within ${limitMs} ms`, error);
  }
  if (typeof e?.code === 'string' && (UNREACHABLE_CODES.has(e.code) || e.code.startsWith('HPE_'))) {
    return new DockerUnavailableError(`Docker ${what}: engine unreachable (${e.code})`, error);
  }
  if (typeof e?.message === 'string' && /socket hang up/i.test(e.message)) {
    return new DockerUnavailableError(`Docker ${what}: connection closed`, error);
  }
  return new DockerApiError(`Docker ${what}: ${String(e?.message ?? error)}`, undefined, error);
}

function engineMessage(json: unknown, fallback: unknown): string {
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  // A socket proxy answers 403 with an HTML page: keep the log line short.
  return String(fallback ?? '').replace(/\s+/g, ' ').slice(0, 200);
}
