/**
 * The real receiver (createApp + the dockerode controller) on a real engine, listening on a free port.
 *
 *   const receiver = await startLiveReceiver({ engine, targets: `ollama: {members: [{container: x}]}` });
 *   await receiver.webhook(body)            // POST /webhook/alertmanager with the fixture's headers and token
 *   await receiver.target('ollama')         // GET /api/v1/targets/ollama (JSON)
 *   await receiver.metric('ai_dispatcher_target_running', { target: 'ollama' })  // read from GET /metrics
 *   await receiver.close()                  // app.close(), then the HTTP server
 *
 * alertBody(fixture, { action, target, fingerprint?, startsAt? }) gives a captured Alertmanager 0.25 body
 * with the contract's labels; a new fingerprint makes it a different alert (not a duplicate delivery).
 */
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { Registry } from 'prom-client';
import { createApp, type ReceiverApp } from '../../receiver/src/app';
import { systemClock } from '../../receiver/src/clock';
import { parseConfig } from '../../receiver/src/config/load';
import { createDockerodeController } from '../../receiver/src/docker/dockerode-controller';
import { createJsonLogger } from '../../receiver/src/logger';
import { ALERTMANAGER_FIXTURES, fixtureBytes, withContractLabels } from './alertmanager-fixtures';
import type { DockerEngine } from './docker-engine';

/** The bearer token Alertmanager sent in the captures (headers files). */
export const FIXTURE_TOKEN = fixtureHeader('PendingAIWorkflows-firing', 'Authorization').replace(/^Bearer /, '');

export type FixtureName =
  | 'PendingAIWorkflows-firing'
  | 'PendingAIWorkflows-resolved'
  | 'AIServicesIdleTooLong-firing'
  | 'AIServicesIdleTooLong-resolved';

export function fixtureHeader(fixture: FixtureName, name: string): string {
  const lines = fs.readFileSync(path.join(ALERTMANAGER_FIXTURES, `${fixture}.headers.txt`), 'utf8').split(/\r?\n/);
  const line = lines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (line === undefined) throw new Error(`${fixture}.headers.txt has no ${name} header`);
  return line.slice(name.length + 1).trim();
}

export function alertBody(
  fixture: FixtureName,
  options: { action: 'start' | 'stop'; target: string; fingerprint?: string; startsAt?: string },
): string {
  const text = withContractLabels(fixtureBytes(`${fixture}.json`), options.action, options.target);
  if (options.fingerprint === undefined && options.startsAt === undefined) return text;
  const body = JSON.parse(text) as { alerts: Array<{ fingerprint: string; startsAt: string }> };
  for (const alert of body.alerts) {
    if (options.fingerprint !== undefined) alert.fingerprint = options.fingerprint;
    if (options.startsAt !== undefined) alert.startsAt = options.startsAt;
  }
  return JSON.stringify(body);
}

/** Several captured alerts in one notification (as Alertmanager groups them). */
export function groupedBody(...bodies: string[]): string {
  const parsed = bodies.map((b) => JSON.parse(b) as { alerts: unknown[] });
  const first = parsed[0]!;
  return JSON.stringify({ ...first, alerts: parsed.flatMap((p) => p.alerts) });
}

export interface LiveReceiverOptions {
  engine: DockerEngine;
  /** YAML of the `targets:` mapping, indented as its body (one target per top-level key). */
  targets: string;
  refreshIntervalSeconds?: number;
  dockerTimeoutSeconds?: number;
  dryRun?: boolean;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** A fetch Response as status, headers and body (parsed when JSON, text otherwise, e.g. /metrics). */
export async function readAnswer(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

export interface LiveReceiver {
  url: string;
  receiver: ReceiverApp;
  logLines: string[];
  webhook(body: string, fixture?: FixtureName): Promise<HttpAnswer>;
  request(method: string, path: string): Promise<HttpAnswer>;
  target(name: string): Promise<any>;
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  close(): Promise<void>;
}

export async function startLiveReceiver(options: LiveReceiverOptions): Promise<LiveReceiver> {
  const yaml = [
    'listen: 127.0.0.1:0',
    `docker: {socket_path: ${JSON.stringify(options.engine.socketPath)}, timeout_seconds: ${options.dockerTimeoutSeconds ?? 2}}`,
    `refresh_interval_seconds: ${options.refreshIntervalSeconds ?? 0.5}`,
    'shutdown_timeout_seconds: 2',
    'wake_timeout_seconds: 15',
    'targets:',
    ...options.targets.trim().split('\n').map((line) => `  ${line}`),
  ].join('\n');
  const config = parseConfig(yaml, 'live-receiver');
  const logLines: string[] = [];
  const receiver = createApp({
    config,
    registry: new Registry(),
    docker: createDockerodeController({ socketPath: options.engine.socketPath, timeoutMs: config.docker.timeoutSeconds * 1000 }),
    logger: createJsonLogger({ level: 'debug', write: (line) => logLines.push(line), secrets: [FIXTURE_TOKEN] }),
    clock: systemClock,
    token: FIXTURE_TOKEN,
    dryRun: options.dryRun,
    version: '0.0.0-live-test',
  });
  await receiver.start();
  const server = http.createServer(receiver.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = { authorization: `Bearer ${FIXTURE_TOKEN}` };

  const live: LiveReceiver = {
    url,
    receiver,
    logLines,
    async webhook(body, fixture = 'PendingAIWorkflows-firing') {
      const res = await fetch(`${url}/webhook/alertmanager`, {
        method: 'POST',
        headers: {
          'content-type': fixtureHeader(fixture, 'Content-Type'),
          'user-agent': fixtureHeader(fixture, 'User-Agent'),
          authorization: fixtureHeader(fixture, 'Authorization'),
        },
        body,
      });
      return readAnswer(res);
    },
    async request(method, pathname) {
      return readAnswer(await fetch(`${url}${pathname}`, { method, headers: auth }));
    },
    async target(name) {
      const res = await live.request('GET', `/api/v1/targets/${name}`);
      if (res.status !== 200) throw new Error(`GET /api/v1/targets/${name}: ${res.status}`);
      return res.body;
    },
    async metric(name, labels = {}) {
      const text = (await live.request('GET', '/metrics')).body as string;
      return readMetric(text, name, labels);
    },
    async close() {
      await receiver.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return live;
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text format. */
export function readMetric(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(match[4]);
  }
  return undefined;
}
