/**
 * The socket proxy's allowlist as docker-compose.override.yml configures it (wollomatic/socket-proxy:
 * one regexp per HTTP method, anchored with ^...$, matched against the request path). Tests use it to
 * check requests, and the e2e test puts it between the receiver and a real dockerd.
 */
import { environmentOf, loadInterpolated } from './compose-file';

export type Allowlist = Record<string, RegExp>;

export function proxyAllowlist(): Allowlist {
  const env = environmentOf(loadInterpolated().services['docker-socket-proxy']);
  const list: Allowlist = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^SP_ALLOW_([A-Z]+)$/.exec(key);
    if (m) list[m[1]] = new RegExp(`^${value}$`);
  }
  return list;
}

/** Whether the proxy would forward this request (the query string is not part of the match). */
export function allows(list: Allowlist, method: string, url: string): boolean {
  const pathname = new URL(url, 'http://proxy').pathname;
  const re = list[method.toUpperCase()];
  return re !== undefined && re.test(pathname);
}
