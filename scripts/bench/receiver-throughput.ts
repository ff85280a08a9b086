/**
 * Webhook throughput, latency and memory of the receiver in dry-run, beside two floors that parse the same JSON
 * and answer 200: a bare node:http server and a bare Express 5 app with express.json().
 *
 *   npx tsx scripts/bench/receiver-throughput.ts [--rounds 3] [--seconds 3] [--connections 16] [--paced-seconds 5] [--rate 1000]
 *                                                [--paced-warmup-seconds 1]
 *                                                [--only throughput|latency]
 *
 * Each server runs in its own child process (RSS is its own); the client runs here. Runs are interleaved
 * (round 1: node, express, receiver; round 2: ...), so that machine noise hits all three alike.
 * - throughput: closed loop, N keep-alive connections each sending the next request when the answer arrives,
 *   sent by wrk (Debian package `wrk`, installed by scripts/install-deps.sh) after 1 s of warm-up not counted. A
 *   Node client here is itself the bottleneck on 2 cores (it needs as much CPU as the server), so its numbers moved
 *   with the client's own noise; without wrk on PATH the Node client is used and the report says so;
 * - latency: open loop, one request every 1/rate s on a fixed schedule (not in bursts), latency from send to answer;
 *   each round first sends at the same rate for --paced-warmup-seconds, not counted (the client's new
 *   connections and the server's code paths warm up, as the closed loop's first half second does);
 * - RSS: /proc/PID/status VmRSS after start-up and idle (rest), and the highest sample while under load.
 * The body is the captured Alertmanager 0.25 PendingAIWorkflows notification with the contract's labels: the
 * receiver acts on the first one (a dry-run start) and counts the rest as repeated deliveries, as in production.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { percentile, sendPaced } from './paced';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.resolve(ROOT, 'test/fixtures/alertmanager-0.25/PendingAIWorkflows-firing.json');
const TOKEN = 'bench-token-0123456789abcdef';
const WEBHOOK = '/webhook/alertmanager';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    'paced-seconds': { type: 'string', default: '5' },
    'paced-warmup-seconds': { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
    only: { type: 'string' },
  },
});
const PHASES = new Set(args.only === undefined ? ['throughput', 'latency'] : [args.only]);
if (![...PHASES].every((p) => p === 'throughput' || p === 'latency')) throw new Error('--only takes throughput or latency');
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const PACED_SECONDS = Number(args['paced-seconds']);
const PACED_WARMUP_SECONDS = Number(args['paced-warmup-seconds']);
const RATE = Number(args.rate);

const BODY = Buffer.from(
  fs
    .readFileSync(FIXTURE, 'utf8')
    .replace(/"action":"start_ai_services","ai_lifecycle":"true"/g, '"ai_dispatcher_action":"start","ai_dispatcher_target":"ollama"'),
);

const BARE_NODE = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try { JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
`;

const BARE_EXPRESS = `
const express = require('express');
const app = express();
app.post('${WEBHOOK}', express.json(), (req, res) => { res.status(200).json({ status: 'ok' }); });
const server = app.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
server.keepAliveTimeout = 65000;
`;

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
  restRssMb: number;
  peakRssMb: number;
  /** Closed-loop requests per second, one value per round. */
  throughput: number[];
  /** Paced latencies in ms, all rounds pooled. */
  latencies: number[];
  /** p99 of each paced round: on a shared machine one burst of foreign load can own a pooled p99. */
  roundP99: number[];
  errors: number;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function startServer(name: string, command: string[], env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const child = spawn(process.execPath, command, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const plain = /PORT (\d+)/.exec(out);
      const receiver = /"msg":"receiver listening","url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
      const match = plain ?? receiver;
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume(); // keep draining the receiver's log lines
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening:\n${out}`)));
  });
  const server: Server = { name, child, port, restRssMb: 0, peakRssMb: 0, throughput: [], latencies: [], roundP99: [], errors: 0 };
  // One request so that every lazy path is loaded, then let it settle before reading the resting RSS.
  await send(new http.Agent({ keepAlive: true }), server);
  await sleep(2000);
  server.restRssMb = rssMb(child.pid as number);
  return server;
}

function send(agent: http.Agent, server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: WEBHOOK,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': BODY.length, authorization: `Bearer ${TOKEN}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

function watchRss(server: Server): () => void {
  const timer = setInterval(() => {
    server.peakRssMb = Math.max(server.peakRssMb, rssMb(server.child.pid as number));
  }, 100);
  return () => clearInterval(timer);
}

async function closedLoop(server: Server, wrkScript: string | undefined): Promise<void> {
  const stop = watchRss(server);
  try {
    server.throughput.push(wrkScript === undefined ? await closedLoopNode(server) : await closedLoopWrk(server, wrkScript));
  } finally {
    stop();
  }
}

async function closedLoopWrk(server: Server, script: string): Promise<number> {
  const url = `http://127.0.0.1:${server.port}${WEBHOOK}`;
  const run = (seconds: number) =>
    new Promise<string>((resolve, reject) =>
      execFile('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, url], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
  await run(1);
  const out = await run(SECONDS);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rate) throw new Error(`no Requests/sec in wrk's output:\n${out}`);
  server.errors += Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socketErrors) server.errors += socketErrors.slice(1).reduce((n, x) => n + Number(x), 0);
  return Number(rate[1]);
}

async function closedLoopNode(server: Server): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let done = 0;
  const measureFrom = Date.now() + 500; // half a second of warm-up is not counted
  const end = measureFrom + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const status = await send(agent, server);
      if (status < 200 || status >= 300) server.errors += 1;
      if (Date.now() >= measureFrom) done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return done / SECONDS;
}

/** A wrk script that POSTs BODY with the webhook's headers, or undefined when wrk is not installed. */
function writeWrkScript(dir: string): string | undefined {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary means "not installed".
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  const body = path.join(dir, 'body.json');
  fs.writeFileSync(body, BODY);
  const script = path.join(dir, 'post.lua');
  // The body is read from its file so that it goes out byte for byte (no Lua string escaping).
  fs.writeFileSync(
    script,
    [
      `local file = assert(io.open(${JSON.stringify(body)}, "rb"))`,
      'wrk.method = "POST"',
      'wrk.body = file:read("*a")',
      'file:close()',
      'wrk.headers["Content-Type"] = "application/json"',
      `wrk.headers["Authorization"] = "Bearer ${TOKEN}"`,
      '',
    ].join('\n'),
  );
  return script;
}

async function paced(server: Server): Promise<{ sent: number; maxLagMs: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const stop = watchRss(server);
  const warmup = Math.round(RATE * PACED_WARMUP_SECONDS);
  const total = warmup + Math.round(RATE * PACED_SECONDS);
  const round: number[] = [];
  const { maxLagMs } = await sendPaced(RATE, total, async (i) => {
    const sentAt = performance.now();
    const status = await send(agent, server);
    if (i >= warmup) round.push(performance.now() - sentAt);
    if (status < 200 || status >= 300) server.errors += 1;
  });
  stop();
  agent.destroy();
  server.latencies.push(...round);
  server.roundP99.push(percentile([...round].sort((a, b) => a - b), 99));
  return { sent: total, maxLagMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  process.stdout.write('building the receiver (npm run build) ...\n');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-bench-'));
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, `docker: {socket_path: ${path.join(dir, 'no-engine.sock')}}\n`);

  const servers: Server[] = [];
  try {
    servers.push(await startServer('bare node:http', ['-e', BARE_NODE]));
    servers.push(await startServer('bare Express 5 + express.json()', ['-e', BARE_EXPRESS]));
    servers.push(
      await startServer('receiver (dry-run)', [...RECEIVER_NODE_FLAGS, 'dist/receiver/src/cli.js', 'receiver', '--config', config, '--listen', '127.0.0.1:0', '--dry-run'], {
        ...process.env,
        AI_DISPATCHER_TOKEN: TOKEN,
      }),
    );
    process.stdout.write(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; Node ${process.version}\n`);
    const wrkScript = PHASES.has('throughput') ? writeWrkScript(dir) : undefined;
    process.stdout.write(`closed loop: ${wrkScript === undefined ? 'Node client (wrk not found: the client may be the bottleneck)' : 'wrk -t1'}, ${CONNECTIONS} connections, ${SECONDS} s x ${ROUNDS} rounds; paced: ${RATE} req/s, ${PACED_SECONDS} s (after ${PACED_WARMUP_SECONDS} s not counted) x ${ROUNDS} rounds; receiver node flags: ${RECEIVER_NODE_FLAGS.join(' ') || 'none'}\n`);

    const lags: Record<string, number> = {};
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      if (PHASES.has('throughput')) for (const server of order) await closedLoop(server, wrkScript);
      if (PHASES.has('latency')) for (const server of order) {
        const { maxLagMs } = await paced(server);
        lags[server.name] = Math.max(lags[server.name] ?? 0, maxLagMs);
      }
      process.stdout.write(`round ${round} done\n`);
    }

    const express = servers[1];
    const receiver = servers[2];
    process.stdout.write('\n| server | throughput req/s (median of rounds) | paced p50 ms | paced p99 ms (pooled) | paced p99 ms (median of rounds) | paced max ms | RSS rest MB | RSS peak under load MB | non-2xx or socket errors |\n');
    process.stdout.write('|---|---|---|---|---|---|---|---|---|\n');
    const fmt = (xs: number[], f: (sorted: number[]) => number) => (xs.length === 0 ? '-' : f([...xs].sort((a, b) => a - b)).toFixed(2));
    for (const s of servers) {
      const throughput = s.throughput.length === 0 ? '-' : `${median(s.throughput).toFixed(0)} (${s.throughput.map((t) => t.toFixed(0)).join(', ')})`;
      process.stdout.write(
        `| ${s.name} | ${throughput} | ${fmt(s.latencies, (l) => percentile(l, 50))} | ${fmt(s.latencies, (l) => percentile(l, 99))} | ${fmt(s.roundP99, (l) => l[Math.floor(l.length / 2)])} (${s.roundP99.map((x) => x.toFixed(1)).join(', ')}) | ${fmt(s.latencies, (l) => l[l.length - 1])} | ${s.restRssMb.toFixed(1)} | ${s.peakRssMb.toFixed(1)} | ${s.errors} |\n`,
      );
    }
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    process.stdout.write('\n');
    if (PHASES.has('throughput')) {
      const ratio = median(receiver.throughput) / median(express.throughput);
      process.stdout.write(`goal throughput >= 80% of bare Express: ${(ratio * 100).toFixed(0)}% -> ${verdict(ratio >= 0.8)}\n`);
    }
    if (PHASES.has('latency')) {
      const p99 = percentile([...receiver.latencies].sort((a, b) => a - b), 99);
      const p99Median = median(receiver.roundP99);
      process.stdout.write(`client pacing: worst lag behind schedule ${Math.max(...Object.values(lags)).toFixed(2)} ms\n`);
      process.stdout.write(`goal p99 < 10 ms at ${RATE} req/s: pooled ${p99.toFixed(2)} ms -> ${verdict(p99 < 10)}; median of rounds ${p99Median.toFixed(2)} ms -> ${verdict(p99Median < 10)}\n`);
    }
    process.stdout.write(`goal RSS at rest < 80 MB: ${receiver.restRssMb.toFixed(1)} MB -> ${verdict(receiver.restRssMb < 80)}\n`);
    process.stdout.write(`goal RSS under load < 150 MB: ${receiver.peakRssMb.toFixed(1)} MB -> ${verdict(receiver.peakRssMb < 150)}\n`);
    if (receiver.errors > 0) process.stdout.write(`WARNING: the receiver answered ${receiver.errors} requests with a non-2xx status\n`);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.child.exitCode !== null ? resolve(null) : s.child.once('exit', resolve)))));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
