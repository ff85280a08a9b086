/**
 * A target must not be the receiver's own container or the Docker socket proxy it talks through: a stop would
 * take down the controller itself (and `restart: unless-stopped` does not bring back a container stopped
 * through the API). Two checks, both refusing the start:
 * - by name, at config load: a member named like the host of `docker.host` (tcp://docker-socket-proxy:2375:
 *   the proxy's service name, which is also its DNS name on the compose network);
 * - by id, at start (main.ts): a member whose container id is the one this process runs in
 *   (ownContainerId(), from the bind mounts Docker and Podman make for /etc/hostname and friends).
 */
import type { ContainerState } from '../docker/controller';
import type { ContainerRef, TargetConfig } from './types';

/** The host name of a tcp/http(s) Docker host, unless it is an IP address (then no name can match). */
export function proxyHostName(dockerHost: string | undefined): string | undefined {
  if (dockerHost === undefined || dockerHost.startsWith('unix://')) return undefined;
  let host: string;
  try {
    host = new URL(dockerHost).hostname;
  } catch {
    return undefined;
  }
  if (host === '' || /^[0-9.]+$/.test(host) || host.startsWith('[')) return undefined;
  return host;
}

function namesOf(ref: ContainerRef): string[] {
  if (ref.kind === 'container') return [ref.name];
  if (ref.kind === 'compose') return [ref.service];
  return [ref.service];
}

/** Members named like the Docker host the receiver talks to (the socket proxy). */
export function proxyTargetProblems(targets: Iterable<TargetConfig>, dockerHost: string | undefined): string[] {
  const proxy = proxyHostName(dockerHost);
  if (proxy === undefined) return [];
  const problems: string[] = [];
  for (const target of targets) {
    target.members.forEach((ref, i) => {
      if (namesOf(ref).some((n) => n.toLowerCase() === proxy.toLowerCase())) {
        problems.push(`/targets/${target.name}/members/${i}: "${proxy}" is the Docker host the receiver talks to (docker.host); stopping it would cut the receiver off from Docker`);
      }
    });
  }
  return problems;
}

/** Members that Docker resolves to the receiver's own container. */
export function ownContainerProblems(targets: Iterable<TargetConfig>, ownId: string, states: Map<ContainerRef, ContainerState | undefined>): string[] {
  const problems: string[] = [];
  for (const target of targets) {
    target.members.forEach((ref, i) => {
      const id = states.get(ref)?.id;
      if (id !== undefined && id.length >= 12 && (ownId.startsWith(id) || id.startsWith(ownId))) {
        problems.push(`/targets/${target.name}/members/${i}: this is the receiver's own container (${ownId.slice(0, 12)}); stopping it would stop the receiver`);
      }
    });
  }
  return problems;
}

const MOUNT_ID = /\/([0-9a-f]{64})\/(?:userdata\/)?(?:hostname|hosts|resolv\.conf)(?:\s|$)/m;
const CGROUP_ID = /(?:docker|libpod)[-/]([0-9a-f]{64})(?:\.scope)?\s*$/m;

/** The id of the container this process runs in, from /proc/self/mountinfo (cgroup v1 and v2) or /proc/self/cgroup. */
export function containerIdFrom(mountinfo: string, cgroup: string): string | undefined {
  return MOUNT_ID.exec(mountinfo)?.[1] ?? CGROUP_ID.exec(cgroup)?.[1];
}
