/**
 * A `container:` member: one container by its exact name.
 *   GET  /containers/{name}/json       inspect
 *   POST /containers/{name}/start      start
 *   POST /containers/{name}/stop?t=N   stop
 * Inspected, started and stopped by its name (never listed), so a socket proxy can allow exactly
 * /containers/NAME/{json,start,stop} for the configured names (socket-proxy-allowlist.ts generates that list).
 * Docker resolves /containers/{x} by full id, then by name, then by id prefix, so a name is accepted only when the
 * engine's answer carries exactly that name.
 */
import type Docker from 'dockerode';
import type { ContainerRef } from '../config/types';
import { fromInspect, inspectContainer, startEach, stopEach, summarize, type ContainerLookup } from './containers';
import type { MemberDriver } from './controller';
import type { EngineCall } from './engine-call';

type NamedRef = Extract<ContainerRef, { kind: 'container' }>;

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function containerMember(docker: Docker, call: EngineCall): MemberDriver<NamedRef> {
  const lookup: ContainerLookup<NamedRef> = {
    async resolve(ref) {
      if (!CONTAINER_NAME.test(ref.name)) return [];
      const info = await inspectContainer(docker, call, ref.name);
      // Docker falls back to id-prefix matching: accept only the container that bears exactly this name.
      if (!info || info.Name !== `/${ref.name}`) return [];
      return [fromInspect(info)];
    },
    // Already checked to be exactly this container's name: a socket proxy can pin its allowlist to it.
    actionPath: (ref) => ref.name,
  };
  return {
    inspect: async (ref) => summarize(ref, await lookup.resolve(ref)),
    start: (ref) => startEach(docker, call, lookup, ref),
    stop: (ref, t) => stopEach(docker, call, lookup, ref, t),
  };
}
