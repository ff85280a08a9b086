/**
 * What container and compose members share: a container's state from its inspect answer, a group of containers
 * summed up as one member, and start/stop applied to each container of a member.
 */
import type Docker from 'dockerode';
import type { ContainerRef } from '../config/types';
import { ContainerNotFoundError, DockerApiError, type ContainerState, type HealthStatus, type StartOutcome, type StopOutcome } from './controller';
import type { EngineCall } from './engine-call';

export type ContainerGroupRef = Exclude<ContainerRef, { kind: 'swarm' }>;

export interface ResolvedContainer {
  id: string;
  name: string;
  running: boolean;
  health: HealthStatus;
  startedAt?: Date;
}

const NEVER_STARTED = '0001-01-01T00:00:00Z';

/** GET /containers/{idOrName}/json; undefined when the engine answers 404. */
export async function inspectContainer(docker: Docker, call: EngineCall, idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await call(`inspect ${idOrName}`, (abortSignal) => docker.getContainer(idOrName).inspect({ abortSignal }));
  } catch (error) {
    if (error instanceof DockerApiError && error.statusCode === 404) return undefined;
    throw error;
  }
}

export function fromInspect(info: Docker.ContainerInspectInfo): ResolvedContainer {
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

/** The member's state: running when every container runs, the worst health, the latest start. */
export function summarize(ref: ContainerGroupRef, members: ResolvedContainer[]): ContainerState {
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

/** How a kind finds its containers and where it sends actions for one of them. */
export interface ContainerLookup<R extends ContainerGroupRef> {
  resolve(ref: R): Promise<ResolvedContainer[]>;
  actionPath(ref: R, member: ResolvedContainer): string;
}

/** POST /containers/{x}/start for each container; one that already runs (304) is no error. */
export async function startEach<R extends ContainerGroupRef>(docker: Docker, call: EngineCall, lookup: ContainerLookup<R>, ref: R): Promise<StartOutcome> {
  let outcome: StartOutcome = 'already_running';
  for (const member of await resolveExisting(lookup, ref)) {
    try {
      await call(`start ${member.name}`, (abortSignal) => docker.getContainer(lookup.actionPath(ref, member)).start({ abortSignal }));
      outcome = 'started';
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 304) continue;
      throw notFoundFor(ref, error);
    }
  }
  return outcome;
}

/** POST /containers/{x}/stop?t=N for each container; one that is stopped already (304) is no error. */
export async function stopEach<R extends ContainerGroupRef>(
  docker: Docker,
  call: EngineCall,
  lookup: ContainerLookup<R>,
  ref: R,
  t: number,
): Promise<StopOutcome> {
  let outcome: StopOutcome = 'already_stopped';
  for (const member of await resolveExisting(lookup, ref)) {
    try {
      // The engine waits up to t seconds before SIGKILL: the call may take that long on top.
      await call(`stop ${member.name}`, (abortSignal) => docker.getContainer(lookup.actionPath(ref, member)).stop({ t, abortSignal }), t * 1000);
      outcome = 'stopped';
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 304) continue;
      throw notFoundFor(ref, error);
    }
  }
  return outcome;
}

async function resolveExisting<R extends ContainerGroupRef>(lookup: ContainerLookup<R>, ref: R): Promise<ResolvedContainer[]> {
  const members = await lookup.resolve(ref);
  if (members.length === 0) throw new ContainerNotFoundError(ref);
  return members;
}

/** A member removed between lookup and action is a missing container, not an API failure. */
function notFoundFor(ref: ContainerRef, error: unknown): unknown {
  return error instanceof DockerApiError && error.statusCode === 404 ? new ContainerNotFoundError(ref) : error;
}
