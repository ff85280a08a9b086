/**
 * Load: a burst of notifications at once, then a sustained paced rate, against the built receiver
 * (dist/, `npm run build`) as a child process over loopback, then idle: no crash, no lost notification,
 * memory back to its resting level.
 *
 *   npx tsx scripts/bench/receiver-load.ts [--burst 1000] [--rate 500] [--seconds 60] [--rounds 2] [--connections 256] [--dry-run]
 *
 * Default: a real config on a private dockerd with one stand-in container that runs and is ready, so the
 * target's state is stable and every notification is a real "ensure running" (inspect + readiness probe,
 * coalesced while one is in flight). --dry-run: no engine, the receiver only logs and counts.
 * Every notification is a new alert (its own fingerprint): nothing is short-cut as a repeated delivery.
 * Checked afterwards, from the receiver's own /metrics and Docker's events:
 *   - every request answered 2xx, none failed or timed out on the client;
 *   - ai_dispatcher_webhook_requests_total{outcome="accepted"} and ai_dispatcher_alerts_received_total grew by
 *     exactly the number sent; no other outcome;
 *   - the process is alive, the container was neither started nor stopped;
 *   - RSS and heap after a full GC (forced through the inspector, loopback only) before the load (rest) and 60 s
 *     after each round (burst + sustained): back to rest when the heap is within 20 % or 10 MB of its resting size;
 *     RSS keeps some freed pages mapped, so it is judged by not growing from one round to the next (within 10 MB).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildStandInImage, createStandInContainer, startDockerEngine, waitForStandIn, type DockerEngine } from '../harness/docker-engine';
import { containerEvents } from '../harness/docker-events';
import { freePort } from '../harness/free-port';
import { alertBody, readMetric } from '../harness/live-receiver';
import { receiverConfigYaml, startReceiverProcess, type ReceiverProcess } from '../harness/receiver-process';
import { percentile, sendPaced } from './paced';

const { values: args } = parseArgs({
  options: {
    burst: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const BURST = Number(args.burst);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const DRY_RUN = args['dry-run'] ?? false;
const TOKEN = 'load-bench-token-0123456789abcdef';
const TEMPLATE = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama' });

let sequence = 0;
/** A new alert each time: the captured body with its own fingerprint. */
function nextBody(): Buffer {
  sequence += 1;
  return Buffer.from(TEMPLATE.replace(/"fingerprint":"[^"]*"/, `"fingerprint":"load${sequence.toString(16).padStart(12, '0')}"`));
}

interface Tally {
  sent: number;
  ok: number;
  non2xx: Map<number, number>;
  clientErrors: Map<string, number>;
  latencies: number[];
}

const newTally = (): Tally => ({ sent: 0, ok: 0, non2xx: new Map(), clientErrors: new Map(), latencies: [] });

function post(agent: http.Agent, port: number, tally: Tally): Promise<void> {
  const body = nextBody();
  tally.sent += 1;
  const began = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhook/alertmanager',
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${TOKEN}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          tally.latencies.push(performance.now() - began);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) tally.ok += 1;
          else tally.non2xx.set(status, (tally.non2xx.get(status) ?? 0) + 1);
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout (30 s)')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const key = err.code ?? err.message;
      tally.clientErrors.set(key, (tally.clientErrors.get(key) ?? 0) + 1);
      resolve();
    });
    req.end(body);
  });
}

async function burst(port: number): Promise<Tally> {
  const tally = newTally();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  await Promise.all(Array.from({ length: BURST }, () => post(agent, port, tally)));
  agent.destroy();
  return tally;
}

/** Open loop: request i leaves at t0 + i/RATE, whatever the answers do. */
async function sustained(port: number): Promise<Tally & { maxLagMs: number }> {
  const tally = newTally();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const { maxLagMs } = await sendPaced(RATE, Math.round(RATE * SECONDS), () => post(agent, port, tally));
  agent.destroy();
  return { ...tally, maxLagMs };
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function heapMb(rx: ReceiverProcess): Promise<number> {
  return ((await rx.metric('nodejs_heap_size_used_bytes')) ?? NaN) / 2 ** 20;
}

/**
 * Memory after a full garbage collection in the receiver: the bench starts it with --inspect on a loopback port
 * and asks V8 for HeapProfiler.collectGarbage through the inspector (a one-off node with --experimental-websocket).
 * Without it, "heap used" counts garbage V8 has not bothered to collect yet.
 */
async function settledMemory(rx: ReceiverProcess): Promise<{ rss: number; heap: number }> {
  const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(rx.output())?.[1];
  if (inspector === undefined) throw new Error('the receiver was not started with --inspect');
  const script = `const ws = new WebSocket(process.argv[1]);
ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
ws.onmessage = (m) => { if (JSON.parse(m.data).id === 1) { ws.close(); process.exit(0); } };
setTimeout(() => process.exit(2), 10000);`;
  for (let i = 0; i < 2; i++) execFileSync(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script, inspector]);
  await sleep(500);
  return { rss: rssMb(rx.pid), heap: await heapMb(rx) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  let engine: DockerEngine | undefined;
  let rx: ReceiverProcess | undefined;
  let failed = false;
  try {
    let targets = 'ollama: {members: [{container: load-ollama}], readiness: {type: running}}';
    let containerId: string | undefined;
    let socketPath = '/nonexistent/docker.sock';
    if (!DRY_RUN) {
      engine = await startDockerEngine();
      await buildStandInImage(engine);
      const port = await freePort();
      containerId = (await createStandInContainer(engine, { name: 'load-ollama', port, start: true })).id;
      await waitForStandIn(port);
      socketPath = engine.socketPath;
      targets = `ollama: {members: [{container: load-ollama}], readiness: {type: http, url: "http://127.0.0.1:${port}/api/tags", timeout_seconds: 10, interval_seconds: 0.1}}`;
    }
    rx = await startReceiverProcess({ config: receiverConfigYaml({ socketPath, targets, dockerTimeoutSeconds: 5, refreshIntervalSeconds: 15 }), token: TOKEN, dryRun: DRY_RUN, nodeArgs: ['--inspect=127.0.0.1:0'] });
    const pid = rx.pid;
    const port = Number(new URL(rx.url).port);
    const loadStart = Date.now();

    const warm = newTally();
    await post(new http.Agent({ keepAlive: false }), port, warm);
    await sleep(3000);
    const rest = await settledMemory(rx);
    let peakRss = rest.rss;
    const watch = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 100);

    process.stdout.write(`machine: ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; Node ${process.version}; ${DRY_RUN ? 'dry-run' : 'real engine (private dockerd), target running and ready'}\n`);
    process.stdout.write(`rest: RSS ${fmt(rest.rss)} MB, heap used ${fmt(rest.heap)} MB\n`);

    const enginePid = engine ? Number(fs.readFileSync(`${engine.dir}/dockerd.pid`, 'utf8').trim()) : undefined;
    const cpu = () => ({ receiver: cpuSeconds(pid), engine: enginePid ? cpuSeconds(enginePid) : 0, at: performance.now() });
    const cpuLine = (from: ReturnType<typeof cpu>, to: ReturnType<typeof cpu>) => {
      const wall = (to.at - from.at) / 1000;
      return `CPU: receiver ${fmt((to.receiver - from.receiver) / wall, 2)} cores${enginePid ? `, dockerd ${fmt((to.engine - from.engine) / wall, 2)} cores` : ''}`;
    };

    const bursts: Tally[] = [];
    const paced: Tally[] = [];
    const settled: Array<{ rss: number; heap: number; rssAt10: number }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const c0 = cpu();
      const b = await burst(port);
      const c1 = cpu();
      process.stdout.write(`round ${round} burst: ${b.sent} at once (${CONNECTIONS} connections) answered in ${fmt(c1.at - c0.at, 0)} ms; ${cpuLine(c0, c1)}\n`);
      const s = await sustained(port);
      const c2 = cpu();
      process.stdout.write(`round ${round} sustained: ${s.sent} at ${RATE}/s over ${SECONDS} s (client lag behind schedule max ${fmt(s.maxLagMs)} ms); ${cpuLine(c1, c2)}\n`);
      bursts.push(b);
      paced.push(s);
      // Whatever is still in flight finishes, then a full GC: what is left is what the receiver keeps. RSS follows
      // more slowly (V8 and malloc give freed pages back over time): sampled at 10 s and 60 s, a GC before each.
      await sleep(10_000);
      const at10 = await settledMemory(rx);
      await sleep(50_000);
      const at60 = await settledMemory(rx);
      settled.push({ ...at60, rssAt10: at10.rss });
      process.stdout.write(`round ${round} after: heap ${fmt(at60.heap)} MB, RSS ${fmt(at10.rss)} MB at 10 s, ${fmt(at60.rss)} MB at 60 s\n`);
    }
    clearInterval(watch);

    const metrics = (await rx.request('GET', '/metrics')).body as string;
    const sent = warm.sent + [...bursts, ...paced].reduce((n, t) => n + t.sent, 0);
    const accepted = readMetric(metrics, 'ai_dispatcher_webhook_requests_total', { outcome: 'accepted' }) ?? 0;
    const otherOutcomes = ['invalid', 'unauthorized', 'too_large', 'unsupported_media_type', 'unavailable', 'error']
      .map((outcome) => [outcome, readMetric(metrics, 'ai_dispatcher_webhook_requests_total', { outcome }) ?? 0] as const)
      .filter(([, n]) => n > 0);
    const alerts = readMetric(metrics, 'ai_dispatcher_alerts_received_total', { alertname: 'PendingAIWorkflows', status: 'firing' }) ?? 0;
    const results = ['success', 'noop', 'failed', 'not_ready', 'suppressed', 'dry_run']
      .map((result) => `${result}=${readMetric(metrics, 'ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result }) ?? 0}`)
      .join(' ');
    const events = engine && containerId ? await containerEvents(engine, containerId, ['start', 'die'], loadStart) : undefined;
    const alive = rx.child.exitCode === null && rx.child.signalCode === null;

    const row = (name: string, t: Tally) => {
      const sorted = [...t.latencies].sort((x, y) => x - y);
      const non2xx = [...t.non2xx].map(([k, v]) => `${k}:${v}`).join(' ') || '0';
      const errors = [...t.clientErrors].map(([k, v]) => `${k}:${v}`).join(' ') || '0';
      return `| ${name} | ${t.sent} | ${t.ok} | ${non2xx} | ${errors} | ${fmt(percentile(sorted, 50), 2)} | ${fmt(percentile(sorted, 99), 2)} | ${fmt(sorted.at(-1) ?? NaN, 2)} |\n`;
    };
    process.stdout.write('\n| phase | sent | 2xx | non-2xx | client errors | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|\n');
    for (let i = 0; i < ROUNDS; i++) {
      process.stdout.write(row(`round ${i + 1}: burst ${BURST}`, bursts[i]!));
      process.stdout.write(row(`round ${i + 1}: ${RATE}/s for ${SECONDS} s`, paced[i]!));
    }
    process.stdout.write(`\nmemory (after a full GC): rest RSS ${fmt(rest.rss)} MB / heap ${fmt(rest.heap)} MB; peak RSS under load ${fmt(peakRss)} MB; 60 s after each round: ${settled.map((m, i) => `round ${i + 1} heap ${fmt(m.heap)} MB RSS ${fmt(m.rss)} MB`).join('; ')}\n`);
    process.stdout.write(`receiver counted: accepted ${accepted} of ${sent} sent; alerts received ${alerts}; other outcomes: ${otherOutcomes.map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}\n`);
    process.stdout.write(`actions (start): ${results}\n`);
    process.stdout.write(`receiver event loop lag: max ${fmt((readMetric(metrics, 'nodejs_eventloop_lag_max_seconds', {}) ?? NaN) * 1000)} ms, p99 ${fmt((readMetric(metrics, 'nodejs_eventloop_lag_p99_seconds', {}) ?? NaN) * 1000)} ms\n`);
    if (events) process.stdout.write(`Docker events for the container during the run: start=${events.start} die=${events.die}\n`);

    const last = settled.at(-1)!;
    const first = settled[0]!;
    const backToRest = (now: number, base: number) => now <= Math.max(base * 1.2, base + 10);
    const checks: Array<[string, boolean]> = [
      ['no crash (process alive)', alive],
      ['every request answered 2xx', [warm, ...bursts, ...paced].every((t) => t.ok === t.sent)],
      ['nothing lost: accepted == sent, alerts received == sent, no other outcome', accepted === sent && alerts === sent && otherOutcomes.length === 0],
      ['target untouched (no start/stop in Docker)', events === undefined || (events.start === 0 && events.die === 0)],
      [`memory back to rest: heap after a full GC ${fmt(last.heap)} vs ${fmt(rest.heap)} MB`, backToRest(last.heap, rest.heap)],
      ...(ROUNDS > 1
        ? [[`RSS does not grow from round to round (after round 1: ${fmt(first.rss)} MB, after round ${ROUNDS}: ${fmt(last.rss)} MB)`, last.rss <= first.rss + 10] as [string, boolean]]
        : []),
    ];
    process.stdout.write(`\n(RSS after the GC: ${fmt(last.rss)} vs ${fmt(rest.rss)} MB at rest: V8 and malloc keep some freed pages mapped)\n`);
    for (const [what, ok] of checks) {
      process.stdout.write(`${ok ? 'held ' : 'FAILED'}  ${what}\n`);
      if (!ok) failed = true;
    }
    if (rx.output().includes(TOKEN)) {
      process.stdout.write('FAILED  the token appeared in the receiver output\n');
      failed = true;
    }
  } finally {
    await rx?.stop();
    await engine?.stop();
  }
  process.exitCode = failed ? 1 : 0;
}

void main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
