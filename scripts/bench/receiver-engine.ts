/**
 * Benchmark: what the receiver adds on top of the engine's own start time, on a real dockerd.
 *
 *   npx tsx scripts/bench/receiver-engine.ts [--runs 7] [--interval 0.05]
 *
 * One private dockerd (scripts/harness/docker-engine.ts), one stand-in container (busybox httpd serving /api/tags),
 * and the receiver (createApp + the dockerode controller) in this process on a loopback port. Interleaved runs,
 * the container stopped before each:
 *   direct   docker start (Engine API, dockerode) of the same container, then GET /api/tags polled every 5 ms;
 *   webhook  POST of the captured PendingAIWorkflows body (contract labels, a new fingerprint each run),
 *            ready = when the receiver itself declares the target ready (its "action finished" log line);
 *   wake     POST /api/v1/targets/NAME/wake, ready = when its answer (200, ready) arrives.
 * "running" is the engine's own timestamp of the container's start event, for every path.
 * Reported: medians from t0 (request sent / API call made) to running and to ready, and the receiver's
 * extra time = its median minus the direct median. --interval sets the receiver's readiness probe interval.
 */
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createApp } from '../../receiver/src/app';
import { systemClock } from '../../receiver/src/clock';
import { parseConfig } from '../../receiver/src/config/load';
import { createDockerodeController } from '../../receiver/src/docker/dockerode-controller';
import { createJsonLogger } from '../../receiver/src/logger';
import { buildStandInImage, createStandInContainer, startDockerEngine, standInAnswers } from '../harness/docker-engine';
import { freePort } from '../harness/free-port';
import { alertBody } from '../harness/live-receiver';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option('runs', 7);
const PROBE_INTERVAL = option('interval', 0.05);
const TOKEN = 'bench-token-not-secret';
const TARGET = 'ollama';

type Path = 'direct' | 'webhook' | 'wake';
interface Sample {
  running: number;
  ready: number;
  answered?: number;
}

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const engine = await startDockerEngine();
  let server: http.Server | undefined;
  let closeApp: (() => Promise<void>) | undefined;
  const events: { destroy(): void }[] = [];
  try {
    await buildStandInImage(engine);
    const port = await freePort();
    const { id } = await createStandInContainer(engine, { name: 'bench-ollama', port });
    const container = engine.docker.getContainer(id);

    // The engine's own record of each start, by its clock (nanoseconds since the epoch).
    const startWaiters: Array<(ms: number) => void> = [];
    const stream = (await engine.docker.getEvents({
      filters: JSON.stringify({ type: ['container'], event: ['start'], container: [id] }),
    } as never)) as unknown as NodeJS.ReadableStream & { destroy(): void };
    events.push(stream);
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.trim()) continue;
        const event = JSON.parse(line) as { timeNano: number };
        startWaiters.shift()?.(event.timeNano / 1e6);
      }
    });
    const nextStart = () => new Promise<number>((resolve) => startWaiters.push(resolve));

    let readyAt: ((ms: number) => void) | undefined;
    const config = parseConfig(
      [
        'listen: 127.0.0.1:0',
        `docker: {socket_path: ${JSON.stringify(engine.socketPath)}}`,
        'refresh_interval_seconds: 15',
        'targets:',
        `  ${TARGET}:`,
        '    members: [{container: bench-ollama}]',
        `    readiness: {type: http, url: "http://127.0.0.1:${port}/api/tags", interval_seconds: ${PROBE_INTERVAL}, timeout_seconds: 10}`,
        '    min_running_seconds: 0',
        '    cooldown_seconds: 0',
      ].join('\n'),
    );
    const app = createApp({
      config,
      registry: new Registry(),
      docker: createDockerodeController({ socketPath: engine.socketPath }),
      logger: createJsonLogger({
        write: (line) => {
          if (line.includes('"msg":"action finished"') && line.includes('"result":"success"')) readyAt?.(now());
        },
      }),
      clock: systemClock,
      token: TOKEN,
    });
    closeApp = () => app.close();
    await app.start();
    server = http.createServer(app.app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };

    const stopped = async () => {
      await container.stop({ t: 5 }).catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 304) throw e;
      });
      while (await standInAnswers(port)) await sleep(10);
      await sleep(100);
    };

    const pollTags = async (): Promise<number> => {
      const deadline = now() + 10_000;
      while (now() < deadline) {
        if (await standInAnswers(port)) return now();
        await sleep(5);
      }
      throw new Error('stand-in never answered');
    };

    let fingerprint = 0;
    const run: Record<Path, () => Promise<Sample>> = {
      async direct() {
        const started = nextStart();
        const t0 = now();
        await container.start();
        const ready = await pollTags();
        return { running: (await started) - t0, ready: ready - t0 };
      },
      async webhook() {
        const started = nextStart();
        const ready = new Promise<number>((resolve) => (readyAt = resolve));
        const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: TARGET, fingerprint: `bench${(fingerprint += 1)}` });
        const t0 = now();
        const res = await fetch(`${base}/webhook/alertmanager`, { method: 'POST', headers, body });
        const answered = now() - t0;
        if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        const readyMs = await withTimeout(ready, 15_000, 'receiver ready');
        readyAt = undefined;
        return { running: (await started) - t0, ready: readyMs - t0, answered };
      },
      async wake() {
        const started = nextStart();
        const t0 = now();
        const res = await fetch(`${base}/api/v1/targets/${TARGET}/wake`, { method: 'POST', headers });
        const ready = now() - t0;
        const body = (await res.json()) as { ready?: boolean };
        if (res.status !== 200 || body.ready !== true) throw new Error(`wake answered ${res.status}: ${JSON.stringify(body)}`);
        return { running: (await started) - t0, ready };
      },
    };

    const samples: Record<Path, Sample[]> = { direct: [], webhook: [], wake: [] };
    // One warm-up round (first container start after an engine start is slower), then the measured runs.
    for (let i = -1; i < RUNS; i++) {
      for (const path of ['direct', 'webhook', 'wake'] as const) {
        await stopped();
        const sample = await run[path]();
        if (i >= 0) samples[path].push(sample);
      }
    }

    const direct = summarize(samples.direct);
    const lines = [
      `receiver vs engine start, ${RUNS} runs each (interleaved), receiver readiness probe interval ${PROBE_INTERVAL} s`,
      `engine: dockerd ${(await engine.docker.version()).Version}, node ${process.version}`,
      'path     | to running (median, min-max) | to ready (median, min-max) | receiver adds (ready, median)',
    ];
    for (const path of ['direct', 'webhook', 'wake'] as const) {
      const s = summarize(samples[path]);
      const adds = path === 'direct' ? '-' : `${(s.ready.median - direct.ready.median).toFixed(1)} ms`;
      lines.push(
        `${path.padEnd(8)} | ${fmt(s.running)} | ${fmt(s.ready)} | ${adds}` +
          (path === 'webhook' ? `  (webhook answered in ${median(samples.webhook.map((x) => x.answered!)).toFixed(1)} ms)` : ''),
      );
    }
    console.log(lines.join('\n'));
  } finally {
    for (const stream of events) stream.destroy();
    await closeApp?.();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
    }
    await engine.stop();
  }
}

function summarize(samples: Sample[]) {
  const stats = (values: number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });
  return { running: stats(samples.map((s) => s.running)), ready: stats(samples.map((s) => s.ready)) };
}

function fmt(s: { median: number; min: number; max: number }): string {
  return `${s.median.toFixed(1)} ms (${s.min.toFixed(0)}-${s.max.toFixed(0)})`.padEnd(28);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
