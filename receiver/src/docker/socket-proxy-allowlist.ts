/**
 * The Docker API allowlist for a filtering socket proxy in front of the receiver (wollomatic/socket-proxy:
 * one Go regexp per HTTP method, anchored ^...$, matched against the decoded URL path; a method without a
 * regexp is refused), generated from the receiver's targets so that the receiver can reach only them:
 *
 *   GET  /_ping
 *   GET  /containers/NAME/json          for each configured `container:` member
 *   POST /containers/NAME/(start|stop)
 *
 * No API version prefix: the receiver sends none, and a prefix below /v1.24 would let a start carry a
 * HostConfig (binds, PID and network mode) that Docker Engines before 25.0 apply. No list, no ids, no other
 * container. `compose:` and `swarm_service:` members cannot be pinned this way (they need the container list
 * and actions by id, or service updates that carry a whole spec): they are refused with a reason.
 */
import type { ReceiverConfig } from '../config/types';
import { describeRef } from './controller';

export interface SocketProxyAllowlist {
  SP_ALLOW_GET: string;
  SP_ALLOW_POST: string;
}

export class AllowlistError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot pin a socket proxy allowlist to these targets:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AllowlistError';
  }
}

/** Docker reads a missing name that looks like hex as an id prefix: such a name could reach another container. */
const HEX_ONLY = /^[0-9a-f]+$/;

export function socketProxyAllowlist(targets: ReceiverConfig['targets']): SocketProxyAllowlist {
  const names: string[] = [];
  const problems: string[] = [];
  for (const target of targets.values()) {
    for (const ref of target.members) {
      if (ref.kind !== 'container') {
        problems.push(`target "${target.name}": ${describeRef(ref)} needs calls a path allowlist cannot pin to it; use {container: NAME} members`);
      } else if (HEX_ONLY.test(ref.name)) {
        problems.push(`target "${target.name}": container name "${ref.name}" looks like an id prefix to Docker; rename the container`);
      } else if (!names.includes(ref.name)) {
        names.push(ref.name);
      }
    }
  }
  if (problems.length > 0) throw new AllowlistError(problems);
  const one = names.length === 1 ? names[0]!.replace(/\./g, '\\.') : `(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})`;
  return {
    SP_ALLOW_GET: `/(_ping|containers/${one}/json)`,
    SP_ALLOW_POST: `/containers/${one}/(start|stop)`,
  };
}
