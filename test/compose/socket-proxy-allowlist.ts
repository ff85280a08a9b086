/**
 * The socket proxy's allowlist as docker-compose.override.yml configures it (wollomatic/socket-proxy:
 * one regexp per HTTP method, anchored with ^...$, matched against the decoded request path; a method
 * without a regexp is refused). Tests use it to check requests, and the e2e test puts it between the
 * receiver and a real dockerd.
 */
import { socketProxyAllowlist } from '../../receiver/src/docker/socket-proxy-allowlist';
import type { TargetConfig } from '../../receiver/src/config/types';
import { environmentOf, loadInterpolated } from './compose-file';

export type Allowlist = Record<string, RegExp>;

/** SP_ALLOW_* environment values (as strings) to regexps keyed by method, as the proxy compiles them. */
export function compileAllowlist(env: Record<string, string>): Allowlist {
  const list: Allowlist = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^SP_ALLOW_([A-Z]+)$/.exec(key);
    if (m) list[m[1]] = new RegExp(`^${value}$`);
  }
  return list;
}

export function proxyAllowlist(): Allowlist {
  return compileAllowlist(environmentOf(loadInterpolated().services['docker-socket-proxy']));
}

/** The allowlist `ai-dispatcher socket-proxy-allowlist` generates for targets made of these containers. */
export function allowlistFor(containers: string[]): Allowlist {
  const target: TargetConfig = {
    name: 't',
    members: containers.map((name) => ({ kind: 'container', name })),
    readiness: { type: 'running' },
    minRunningSeconds: 0,
    cooldownSeconds: 0,
    stopTimeoutSeconds: 0,
  };
  return compileAllowlist({ ...socketProxyAllowlist(new Map([['t', target]])) });
}

/**
 * Whether the proxy would forward this request: Go's r.URL.Path, the path without the query, percent-decoded
 * and not cleaned (no dot-segment removal, unlike WHATWG URL).
 */
export function allows(list: Allowlist, method: string, url: string): boolean {
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.split('?')[0]!);
  } catch {
    return false; // Go answers 400 to a path that does not decode
  }
  const re = list[method.toUpperCase()];
  return re !== undefined && re.test(pathname);
}
