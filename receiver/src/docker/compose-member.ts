/**
 * A `compose:` member: every container with the project and service labels, except one-off `compose run` ones.
 *   GET  /containers/json?all=1&filters   the containers by label
 *   GET  /containers/{id}/json            inspect each (health, start time)
 *   POST /containers/{id}/start           start each
 *   POST /containers/{id}/stop?t=N        stop each
 * Acted on by id, which no socket-proxy path allowlist can pin to the target. The member runs only when all of
 * its containers run.
 */
import type Docker from 'dockerode';
import type { ContainerRef } from '../config/types';
import { fromInspect, inspectContainer, startEach, stopEach, summarize, type ContainerLookup } from './containers';
import { describeRef, type MemberDriver } from './controller';
import type { EngineCall } from './engine-call';

type ComposeRef = Extract<ContainerRef, { kind: 'compose' }>;

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';

export function composeMember(docker: Docker, call: EngineCall): MemberDriver<ComposeRef> {
  const lookup: ContainerLookup<ComposeRef> = {
    async resolve(ref) {
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
      const infos = await Promise.all(members.map((member) => inspectContainer(docker, call, member.Id)));
      return infos.filter((info): info is Docker.ContainerInspectInfo => info !== undefined).map(fromInspect);
    },
    actionPath: (_ref, member) => member.id,
  };
  return {
    inspect: async (ref) => summarize(ref, await lookup.resolve(ref)),
    start: (ref) => startEach(docker, call, lookup, ref),
    stop: (ref, t) => stopEach(docker, call, lookup, ref, t),
  };
}
