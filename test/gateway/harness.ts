/**
 * The gateway and the Ollama stand-in on free loopback ports, in this process (real HTTP between them),
 * and readers for the gateway's metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import yaml from 'js-yaml';
import { Registry } from 'prom-client';
import { createGatewayApp, type GatewayApp } from '../../receiver/src/gateway/app';
import { parseGatewayConfig } from '../../receiver/src/gateway/config';
import { silentLogger, type Logger } from '../../receiver/src/logger';
import { poll } from '../../scripts/harness/eventually';
import { createOllamaStandIn, type OllamaStandIn, type StandInOptions } from '../../scripts/stack/ollama-standin/server';

export interface RunningStandIn {
  url: string;
  port: number;
  standIn: OllamaStandIn;
  close(): Promise<void>;
}

export async function startStandIn(options: StandInOptions = {}, port = 0): Promise<RunningStandIn> {
  const standIn = createOllamaStandIn({ timing: { tokensPerSecond: 2000, loadMs: 5, answerTokens: 12 }, ...options });
  await new Promise<void>((resolve, reject) => {
    standIn.server.once('error', reject);
    standIn.server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = standIn.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${bound}`, port: bound, standIn, close: () => standIn.close() };
}

export interface RunningGateway {
  url: string;
  app: GatewayApp;
  registry: Registry;
  server: http.Server;
  close(): Promise<void>;
}

/** config: the YAML keys (snake_case) as an object; listen is always a free loopback port. */
export async function startGateway(config: Record<string, unknown>, options: { token?: string; logger?: Logger; headersTimeoutMs?: number } = {}): Promise<RunningGateway> {
  const parsed = parseGatewayConfig(yaml.dump({ listen: '127.0.0.1:0', ...config }));
  const registry = new Registry();
  const app = createGatewayApp({ config: parsed, registry, logger: options.logger ?? silentLogger, token: options.token });
  const headersTimeout = options.headersTimeoutMs ?? parsed.limits.headerTimeoutMs;
  const server = http.createServer({ headersTimeout, requestTimeout: 0, connectionsCheckingInterval: Math.min(1000, headersTimeout / 2) }, app.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    registry,
    server,
    async close() {
      server.closeAllConnections();
      await Promise.all([app.close(1000), new Promise((resolve) => server.close(resolve))]);
    },
  };
}

/** The value of one series (exact label match), or undefined when the series does not exist. */
export async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const all = await registry.getMetricsAsJSON();
  for (const family of all) {
    for (const v of family.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
      const seriesName = v.metricName ?? family.name;
      if (seriesName !== name) continue;
      const keys = Object.keys(v.labels).filter((k) => k !== 'le' || 'le' in labels);
      if (keys.length !== Object.keys(labels).length) continue;
      if (keys.every((k) => String(v.labels[k]) === labels[k])) return v.value;
    }
  }
  return undefined;
}

/** Reads until check() holds (polling every 20 ms), failing with the last value after timeoutMs; a read that throws fails at once. */
export function readUntil<T>(read: () => Promise<T> | T, check: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  return poll(read, check, { timeoutMs, intervalMs: 20, fatal: () => true });
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exact headers and body; resolves with the whole answer. */
export function request(url: string, init: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, method: init.method ?? 'POST', path: init.path, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return request(url, { path, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
