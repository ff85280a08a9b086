/**
 * DockerController on the Docker Engine API through dockerode: ping here, each member kind in its own driver
 * (container-member.ts, compose-member.ts, swarm-member.ts; each lists the Engine API calls it makes).
 *
 * Engine API calls made, and nothing else (a socket proxy needs to allow exactly these):
 *   GET  /_ping                          ping()
 *   GET  /containers/{id}/json           inspect a container by name or id
 *   GET  /containers/json?all=1&filters  compose refs: containers by project/service labels
 *   POST /containers/{id}/start          start()
 *   POST /containers/{id}/stop?t=N       stop()
 * and for Swarm service members, on a swarm manager: GET /services/{name}, POST /services/{id}/update?version=N,
 * GET /tasks?filters={"service":[id]}.
 */
import Docker from 'dockerode';
import { systemClock, type Clock } from '../clock';
import { composeMember } from './compose-member';
import { containerMember } from './container-member';
import type { DockerController } from './controller';
import { boundedEngineCall } from './engine-call';
import { swarmMember } from './swarm-member';

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

export function createDockerodeController(options: DockerodeControllerOptions = {}): DockerController {
  const docker = options.host
    ? new Docker({ host: options.host, port: options.port ?? 2375, protocol: options.protocol ?? 'http' })
    : new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
  const call = boundedEngineCall(options.timeoutMs ?? 5000);
  const container = containerMember(docker, call);
  const compose = composeMember(docker, call);
  const swarm = swarmMember(docker, call, { serviceWaitMs: options.serviceWaitMs ?? 60_000, clock: options.clock ?? systemClock });

  return {
    async ping() {
      // @types/dockerode omits ping's options argument; dockerode 5 accepts { abortSignal }.
      const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
      await call('ping', (abortSignal) => ping({ abortSignal }));
    },
    inspect(ref) {
      if (ref.kind === 'swarm') return swarm.inspect(ref);
      return ref.kind === 'container' ? container.inspect(ref) : compose.inspect(ref);
    },
    start(ref) {
      if (ref.kind === 'swarm') return swarm.start(ref);
      return ref.kind === 'container' ? container.start(ref) : compose.start(ref);
    },
    stop(ref, timeoutSeconds) {
      const t = Math.max(0, Math.ceil(timeoutSeconds));
      if (ref.kind === 'swarm') return swarm.stop(ref, t);
      return ref.kind === 'container' ? container.stop(ref, t) : compose.stop(ref, t);
    },
  };
}
