/**
 * A Docker socket proxy for tests: forwards to a real engine only what the compose file's socket-proxy
 * allowlist allows (or `list`, e.g. one generated for the test's own container names; 405 for a method
 * without a regexp and 403 for a path that does not match, as wollomatic/socket-proxy answers) and records
 * every request, so a test can show that the receiver works through that allowlist and asks for nothing else.
 */
import fs from 'node:fs';
import http from 'node:http';
import { allows, proxyAllowlist, type Allowlist } from '../compose/socket-proxy-allowlist';

export interface ProxiedRequest { method: string; url: string; allowed: boolean }

export interface FilteringProxy {
  socketPath: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startFilteringProxy(socketPath: string, engineSocket: string, list: Allowlist = proxyAllowlist()): Promise<FilteringProxy> {
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const allowed = allows(list, method, url);
    requests.push({ method, url, allowed });
    if (!allowed) {
      res.writeHead(list[method.toUpperCase()] === undefined ? 405 : 403, { 'Content-Type': 'text/html' }).end('<html><body><h1>403 Forbidden</h1></body></html>\n');
      return;
    }
    const upstream = http.request({ socketPath: engineSocket, method, path: url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
