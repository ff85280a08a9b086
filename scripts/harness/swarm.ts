/**
 * Live-test helpers for Docker Swarm: a private dockerd in swarm mode (one manager on loopback), and
 * services that run the Ollama stand-in image.
 *
 *   const swarm = await startSwarmEngine();                 // beforeAll
 *   await createStandInService(swarm.engine, { name: 'ollama', port, replicas: 0 });
 *   await swarm.stop();                                     // afterAll: swarm leave --force, dockerd stopped
 *
 * API
 * - startSwarmEngine({ init = true }?) -> SwarmEngine { engine, init(), stop() }: startDockerEngine() with
 *     DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (no registry pull on task start), then initSwarm() unless
 *     init is false (then the test calls swarm.init() itself).
 * - initSwarm(engine): `docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:<free port>`
 *     (and a free data path port). Before that it creates the engine's own docker_gwbridge network on a
 *     bridge with a unique name, so that several swarm engines on this machine do not share one
 *     `docker_gwbridge` link. Services use host networking: no overlay, VIP or ingress (no IPVS here).
 * - leaveSwarm(engine): `docker swarm leave --force`, then removes that bridge.
 * - createStandInService(engine, { name, port, replicas?, image?, readyDelaySeconds?, slowStopSeconds?, labels? })
 *     -> { id, name }. Replicated service of the stand-in (GET 127.0.0.1:port/api/tags answers 200),
 *     host network, restart policy on-failure with a 1 s delay. slowStopSeconds: the task ignores the
 *     stop signal and is killed after that grace period (a task that takes long to go away).
 * - serviceTasks(engine, name) / liveTasks(engine, name): the service's tasks; those not in a final state.
 * - serviceReplicas(engine, name) -> { replicas, version }: the spec's replica count and Version.Index.
 * - Docker's own record of the start/die events of a service's task containers: serviceEvents() in docker-events.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildStandInImage, startDockerEngine, type DockerEngine } from './docker-engine';
import { freePort } from './free-port';

const execFileAsync = promisify(execFile);

export interface SwarmEngine {
  engine: DockerEngine;
  /** initSwarm() on this engine (startSwarmEngine({ init: false }) leaves that to the test). */
  init(): Promise<void>;
  stop(): Promise<void>;
}

const gatewayBridges = new WeakMap<DockerEngine, string>();

export async function startSwarmEngine(options: { init?: boolean } = {}): Promise<SwarmEngine> {
  const engine = await startDockerEngine({ env: { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' } });
  const swarm: SwarmEngine = {
    engine,
    init: () => initSwarm(engine),
    async stop() {
      try {
        if (engine.running() && gatewayBridges.has(engine)) await leaveSwarm(engine);
      } finally {
        await engine.stop();
        await removeLink(gatewayBridges.get(engine));
      }
    },
  };
  if (options.init !== false) {
    try {
      await swarm.init();
    } catch (error) {
      await swarm.stop();
      throw error;
    }
  }
  return swarm;
}

export async function initSwarm(engine: DockerEngine): Promise<void> {
  // Linux interface names: at most 15 bytes.
  const bridge = `dgw${Math.random().toString(36).slice(2, 12)}`;
  gatewayBridges.set(engine, bridge);
  await engine.docker.createNetwork({
    Name: 'docker_gwbridge',
    Driver: 'bridge',
    Options: {
      'com.docker.network.bridge.name': bridge,
      'com.docker.network.bridge.enable_icc': 'false',
      'com.docker.network.bridge.enable_ip_masquerade': 'false',
    },
  });
  const [listenPort, dataPathPort] = [await freePort(), await freePort()];
  await engine.docker.swarmInit({
    ListenAddr: `127.0.0.1:${listenPort}`,
    AdvertiseAddr: '127.0.0.1',
    DataPathPort: dataPathPort,
  });
}

export async function leaveSwarm(engine: DockerEngine): Promise<void> {
  await engine.docker.swarmLeave({ force: true }).catch((error: { statusCode?: number }) => {
    if (error.statusCode !== 503) throw error; // 503: not part of a swarm (any more)
  });
  await engine.docker.getNetwork('docker_gwbridge').remove().catch(() => undefined);
}

async function removeLink(name: string | undefined): Promise<void> {
  if (name === undefined) return;
  await execFileAsync('ip', ['link', 'del', name]).catch(() => undefined); // already gone with its network
}

export interface StandInServiceOptions {
  name: string;
  port: number;
  replicas?: number;
  /** Another image (e.g. one that does not exist, to make tasks get rejected). */
  image?: string;
  readyDelaySeconds?: number;
  slowStopSeconds?: number;
  labels?: Record<string, string>;
}

export async function createStandInService(engine: DockerEngine, options: StandInServiceOptions): Promise<{ id: string; name: string }> {
  const image = options.image ?? (await buildStandInImage(engine));
  const slow = options.slowStopSeconds;
  const service = await engine.docker.createService({
    Name: options.name,
    Labels: options.labels ?? {},
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Env: [`PORT=${options.port}`, `READY_DELAY=${options.readyDelaySeconds ?? 0}`],
        // The stand-in exits on TERM; as PID 1 it ignores a signal it has no handler for.
        ...(slow !== undefined ? { StopSignal: 'SIGUSR1', StopGracePeriod: slow * 1e9 } : { StopGracePeriod: 5e9 }),
      },
      // Swarm's way to say `network_mode: host`: attach the task to the predefined host network.
      Networks: [{ Target: 'host' }],
      RestartPolicy: { Condition: 'on-failure', Delay: 1e9 },
    },
    Mode: { Replicated: { Replicas: options.replicas ?? 0 } },
    // No virtual IP (needs IPVS, which this kernel lacks); nothing is published anyway.
    // Stopping a task on the host network still takes ~3 s: the engine waits 2 s for gossip to converge.
    EndpointSpec: { Mode: 'dnsrr' },
  });
  return { id: service.id as string, name: options.name };
}

export interface SwarmTask {
  ID: string;
  DesiredState: string;
  Status: { State: string; Err?: string };
}

export async function serviceTasks(engine: DockerEngine, name: string): Promise<SwarmTask[]> {
  return (await engine.docker.listTasks({ filters: { service: [name] } })) as SwarmTask[];
}

const FINAL = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);

export async function liveTasks(engine: DockerEngine, name: string): Promise<SwarmTask[]> {
  return (await serviceTasks(engine, name)).filter((t) => !FINAL.has(t.Status.State));
}

export async function serviceReplicas(engine: DockerEngine, name: string): Promise<{ replicas: number; version: number }> {
  const info = await engine.docker.getService(name).inspect();
  return { replicas: info.Spec.Mode.Replicated.Replicas, version: info.Version.Index };
}
