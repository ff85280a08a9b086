/**
 * A `swarm_service:` member: a replicated Swarm service, running when scaled to its replicas with a task running,
 * stopped when scaled to 0. The calls and the waits are swarm-service.ts's; on a swarm manager:
 *   GET  /services/{name}                inspect (whole Spec, Version.Index)
 *   POST /services/{id}/update?version=N scale (the same Spec, another replica count)
 *   GET  /tasks?filters={"service":[id]} the service's tasks
 * With tecnativa/docker-socket-proxy: SERVICES=1, TASKS=1, POST=1. A proxy that allows service updates lets a
 * client change any service's spec (image, mounts); the receiver only ever changes the count.
 */
import type Docker from 'dockerode';
import type { Clock } from '../clock';
import type { ContainerRef } from '../config/types';
import { ContainerNotFoundError, type MemberDriver } from './controller';
import type { EngineCall } from './engine-call';
import { ServiceNotFoundError, dockerodeSwarmApi, readService, scaleService } from './swarm-service';

type SwarmRef = Extract<ContainerRef, { kind: 'swarm' }>;

export interface SwarmMemberOptions {
  /** How long start() waits for the tasks to run, stop() on top of its grace period. */
  serviceWaitMs: number;
  clock: Clock;
}

export function swarmMember(docker: Docker, call: EngineCall, options: SwarmMemberOptions): MemberDriver<SwarmRef> {
  const api = dockerodeSwarmApi(docker, (what, run) => call(what, run));

  async function scale(ref: SwarmRef, replicas: number, waitMs: number): Promise<boolean> {
    try {
      return (await scaleService(api, ref.service, replicas, { waitMs, keepHigher: replicas > 0, clock: options.clock })).changed;
    } catch (error) {
      if (error instanceof ServiceNotFoundError) throw new ContainerNotFoundError(ref);
      throw error;
    }
  }

  return {
    async inspect(ref) {
      const status = await readService(api, ref.service);
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
    },
    // A service scaled to its replicas (or higher) whose tasks run already: nothing to update.
    start: async (ref) => ((await scale(ref, ref.replicas, options.serviceWaitMs)) ? 'started' : 'already_running'),
    // Swarm stops tasks with the service's own stop grace period; t only stretches the wait.
    stop: async (ref, t) => ((await scale(ref, 0, t * 1000 + options.serviceWaitMs)) ? 'stopped' : 'already_stopped'),
  };
}
