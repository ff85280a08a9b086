/**
 * The Ollama gateway against its floor: the same Ollama stand-in reached directly, through the gateway and
 * through nginx (Debian's, proxy_buffering off), interleaved in one run (round 1: direct, gateway, nginx;
 * round 2: gateway, nginx, direct; ...) so that machine noise hits all three alike.
 *
 *   npx tsx scripts/bench/gateway-bench.ts [--rounds 3] [--seconds 5] [--streams 50] [--chunk-streams 100]
 *     [--token-rate 50] [--rate 500] [--soak-seconds 600] [--phases ttft,chunks,tags,rss,soak]
 *     [--arrivals lockstep,spread,bursts] [--node-floor] [--dist DIR] [--b-dist DIR] [--b-flags "NODE FLAGS"]
 *
 * The stand-in generates --token-rate tokens per second per stream, as Ollama does on real hardware (tens to
 * ~100 per stream): a proxy is judged on what it adds to such streams. Run flat out, the stand-in, the client
 * and the proxy fight for the same CPUs and the rates measure that contention, not the proxy. Beside every
 * rate the CPU time of each process during that target's window is printed (from /proc/PID/stat), so the
 * cost of each proxy is visible even where the rate is not limited by it.
 * - ttft: --streams concurrent streamed /api/generate requests of 20 tokens, repeated for --seconds; time from
 *   send to the first body chunk; the gateway's and nginx's added time = their percentile minus direct's.
 *   Twice: lockstep (the streams start together and so arrive in bursts of --streams) and spread (their starts
 *   spread over one answer's time: as many in flight, arriving one by one). Each target has its own windows of
 *   --seconds. With --arrivals bursts (not run by default): the --streams requests leave the client in the same
 *   instant (in lockstep they end, and so start again, a little apart), the targets taking turns burst by burst
 *   in a random order; the harshest arrivals, where each request waits for the proxy's work on those before it.
 * - chunks: --chunk-streams concurrent long streams for --seconds; NDJSON lines received per second.
 * - tags: GET /api/tags paced at --rate req/s for --seconds (p50/p99 latency), and closed-loop throughput by
 *   wrk (-t1 -c32) for --seconds.
 * - rss: the gateway's VmRSS at rest and the highest sample during the chunks phase (100 streams).
 * - soak: --soak-seconds of mixed load (streams, tags, aborted streams, 404s) through a fresh gateway of its own;
 *   RSS sampled every 10 s after a warm-up minute (first, last, max, thirds' medians, slope per hour), and the live
 *   heap after each full collection (--trace-gc), the measure a leak grows.
 * Goals (issue 13): added TTFT < 1 ms p50, < 5 ms p99; chunk rate >= 95 % of direct; /api/tags throughput
 * >= 50 % of nginx's; RSS < 100 MB at 100 streams and flat over the soak.
 * --dist DIR: the gateway from another build than dist/ (npx tsc -p tsconfig.build.json --outDir DIR, with
 * DIR/node_modules linked to the repository's). --b-dist DIR / --b-flags: a second gateway ("gateway-b") from another build (a tsc outDir with node_modules
 * linked) and/or other node flags ("" = node's defaults), interleaved with the others: an A/B in one run.
 * --node-floor: one more target, "node-floor" (node-proxy-floor.ts): Node's HTTP server and the gateway's undici pool
 * with nothing else, the floor of any proxy written for Node, to tell what the gateway adds from what Node costs.
 * --arrivals: which of the ttft phase's arrival patterns to run (lockstep, spread, bursts).
 * The wake goal (first answer within 300 ms of the target being ready) is measured by
 * scripts/bench/loop-bench.ts against a private dockerd.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { ensureReceiverBuilt } from '../harness/build';
import { spawnLogged } from '../harness/spawn-logged';
import { pickPort, waitForHttp } from '../stack/processes';
import { percentile, sendPaced } from './paced';

const ROOT = path.resolve(__dirname, '../..');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    streams: { type: 'string', default: '50' },
    'chunk-streams': { type: 'string', default: '100' },
    rate: { type: 'string', default: '500' },
    'soak-seconds': { type: 'string', default: '600' },
    'token-rate': { type: 'string', default: '50' },
    dist: { type: 'string' },
    'b-dist': { type: 'string' },
    'b-flags': { type: 'string' },
    phases: { type: 'string', default: 'ttft,chunks,tags,rss,soak' },
    arrivals: { type: 'string', default: 'lockstep,spread' },
    'node-floor': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const STREAMS = Number(args.streams);
const CHUNK_STREAMS = Number(args['chunk-streams']);
const RATE = Number(args.rate);
const SOAK_SECONDS = Number(args['soak-seconds']);
const PHASES = new Set(String(args.phases).split(','));
const ARRIVALS = String(args.arrivals).split(',').map((a) => {
  if (a !== 'lockstep' && a !== 'spread' && a !== 'bursts') throw new Error(`--arrivals: "${a}" is not lockstep, spread or bursts`);
  return a;
});
const TOKEN_RATE = Number(args['token-rate']);

interface Target { name: 'direct' | 'gateway' | 'nginx' | 'gateway-b' | 'node-floor'; url: string }

/** CPU seconds (user + system) a process and its children listed in /proc have used so far. */
function cpuSeconds(pid: number): number {
  const stat = (p: number) => {
    try {
      const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
    } catch {
      return 0;
    }
  };
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { /* no children file: the process alone */ }
  return stat(pid) + children.reduce((sum, c) => sum + stat(c), 0);
}

/** CPU seconds of every process in the run (the client itself by process.cpuUsage) over one measured window. */
class CpuMeter {
  private readonly totals = new Map<string, Map<string, number>>();
  constructor(private readonly pids: Map<string, number>) {}
  private now(): Map<string, number> {
    const m = new Map<string, number>([...this.pids].map(([name, pid]) => [name, cpuSeconds(pid)]));
    const own = process.cpuUsage();
    m.set('client', (own.user + own.system) / 1e6);
    return m;
  }
  measure(target: string): () => void {
    const before = this.now();
    return () => {
      const after = this.now();
      const acc = this.totals.get(target) ?? new Map<string, number>();
      for (const [name, v] of after) acc.set(name, (acc.get(name) ?? 0) + v - before.get(name)!);
      this.totals.set(target, acc);
    };
  }
  /** One line per target: CPU seconds of each process while that target was measured, then cleared. */
  report(per?: Map<string, number>, unit = ''): string {
    const lines = [...this.totals].map(([target, acc]) => {
      const parts = [...acc].filter(([, v]) => v > 0.005 || this.pids.has(target)).map(([name, v]) => `${name} ${v.toFixed(2)}`);
      const own = acc.get(target);
      const each = per?.get(target) && own !== undefined ? `; ${target} ${fmt((own * 1e6) / per.get(target)!, 1)} µs CPU per ${unit}` : '';
      return `  CPU s while measuring ${target.padEnd(9)} ${parts.join(', ')}${each}\n`;
    });
    this.totals.clear();
    return lines.join('');
  }
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** One streamed generation: ms to the first chunk, lines received, or an error. */
function stream(url: string, body: string, onLine?: () => void): Promise<{ firstMs: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(`${url}/api/generate`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let firstMs = -1;
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        if (firstMs < 0) firstMs = performance.now() - t0;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
          lines++;
          onLine?.();
        }
      });
      res.on('end', () => (res.statusCode === 200 ? resolve({ firstMs, lines }) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function get(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

async function setStandIn(standIn: string, options: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${standIn}/_standin/options`, { method: 'POST', body: JSON.stringify(options) });
  if (!res.ok) throw new Error(`stand-in options: ${await res.text()}`);
}

const rotate = <T>(list: T[], by: number) => list.map((_, i) => list[(i + by) % list.length]);
/** A new random order (Fisher-Yates): no target always follows the same one. */
function shuffled<T>(list: T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const children: ChildProcess[] = [];
  try {
    const standInPort = await pickPort(0);
    const gatewayPort = await pickPort(0);
    const nginxPort = await pickPort(0);
    const standInUrl = `http://127.0.0.1:${standInPort}`;
    const standIn = spawnLogged(dir, 'standin', process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/stack/ollama-standin/main.ts'),
      '--listen', `127.0.0.1:${standInPort}`, '--load-ms', '0', '--num-parallel', '100000', '--max-queue', '100000']);
    children.push(standIn);
    /** A gateway process in front of the stand-in: its config, log and node flags named after it. */
    const spawnGateway = (name: string, port: number, flags: readonly string[], distDir: string | undefined): ChildProcess => {
      const config = path.join(dir, `${name}.yml`);
      // A queue wider than the load: the benchmark measures the proxy, not the admission policy.
      fs.writeFileSync(config, `listen: 127.0.0.1:${port}\nupstream: {url: "${standInUrl}"}\nadmission: {max_concurrent: 1024, max_queue: 10000}\n`);
      const child = spawnLogged(dir, name, process.execPath, [...flags, path.join(path.resolve(distDir ?? path.join(ROOT, 'dist')), 'receiver/src/cli.js'), 'gateway', '--config', config]);
      children.push(child);
      return child;
    };
    // The built gateway, as users run it (npm run build when dist/ is missing or stale).
    if (args.dist === undefined) ensureReceiverBuilt();
    const gateway = spawnGateway('gateway', gatewayPort, RECEIVER_NODE_FLAGS, args.dist);
    const withB = args['b-dist'] !== undefined || args['b-flags'] !== undefined;
    const gatewayBPort = await pickPort(0);
    const gatewayB = withB
      ? spawnGateway('gateway-b', gatewayBPort, args['b-flags'] === undefined ? RECEIVER_NODE_FLAGS : args['b-flags'].split(/\s+/).filter(Boolean), args['b-dist'])
      : undefined;
    const nodeFloorPort = args['node-floor'] ? await pickPort(0) : 0;
    const nodeFloor = args['node-floor']
      ? spawnLogged(dir, 'node-floor', process.execPath, [...RECEIVER_NODE_FLAGS, '--import', 'tsx', path.join(__dirname, 'node-proxy-floor.ts'),
        '--listen', `127.0.0.1:${nodeFloorPort}`, '--upstream', standInUrl])
      : undefined;
    if (nodeFloor) children.push(nodeFloor);
    const nginxConf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(nginxConf, `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  client_max_body_size 64m;
  upstream ollama { server 127.0.0.1:${standInPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://ollama;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host 127.0.0.1:${standInPort};
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3600s;
    }
  }
}
`);
    const nginx = spawnLogged(dir, 'nginx', '/usr/sbin/nginx', ['-c', nginxConf, '-p', dir]);
    children.push(nginx);
    const targets: Target[] = [
      { name: 'direct', url: standInUrl },
      { name: 'gateway', url: `http://127.0.0.1:${gatewayPort}` },
      { name: 'nginx', url: `http://127.0.0.1:${nginxPort}` },
      ...(withB ? [{ name: 'gateway-b' as const, url: `http://127.0.0.1:${gatewayBPort}` }] : []),
      ...(nodeFloor ? [{ name: 'node-floor' as const, url: `http://127.0.0.1:${nodeFloorPort}` }] : []),
    ];
    const cpu = new CpuMeter(new Map([['stand-in', standIn.pid!], ['gateway', gateway.pid!], ['nginx', nginx.pid!],
      ...(gatewayB ? [['gateway-b', gatewayB.pid!] as [string, number]] : []),
      ...(nodeFloor ? [['node-floor', nodeFloor.pid!] as [string, number]] : [])]));
    for (const t of targets) await waitForHttp(`${t.url}/api/version`, { timeoutMs: 20_000 });
    await get(`${standInUrl}/api/version`);
    process.stdout.write(`gateway-bench: ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; rounds ${ROUNDS}, ${SECONDS} s per phase, ${TOKEN_RATE} tokens/s per stream; logs in ${dir}\n`);
    // Warm-up, not counted: every target's code paths (and the stand-in's) run before the first measurement.
    await setStandIn(standInUrl, { tokensPerSecond: 1000, answerTokens: 20 });
    for (const t of targets) {
      await Promise.all(Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 10; i++) await stream(t.url, JSON.stringify({ model: 'phi3:mini', prompt: 'warm-up' }));
        for (let i = 0; i < 50; i++) await get(`${t.url}/api/tags`);
      }));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const restRss = rssMb(gateway.pid!);
    const restRssB = gatewayB ? rssMb(gatewayB.pid!) : NaN;

    if (PHASES.has('ttft')) {
      // 20 tokens per answer: at 50 tokens/s each stream lasts 0.4 s, so the 50 streams start over and over.
      await setStandIn(standInUrl, { tokensPerSecond: TOKEN_RATE, answerTokens: 20 });
      const body = JSON.stringify({ model: 'phi3:mini', prompt: 'time to first token' });
      const answerMs = (20 * 1000) / TOKEN_RATE;
      // lockstep: the streams start together and, lasting alike, arrive together every answer (a burst of
      // --streams requests); spread: their starts spread over one answer's time, so the same number of streams
      // is in flight at every moment but requests arrive one by one.
      for (const arrival of ARRIVALS) {
        const requests = new Map<string, number>();
        const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
        /** sent: every request of the measured CPU window, warm-up ones too (CPU per request). */
        const record = (t: Target, firstMs: number[], sent: number) => {
          samples.get(t.name)!.push(...firstMs);
          requests.set(t.name, (requests.get(t.name) ?? 0) + sent);
        };
        if (arrival === 'bursts') {
          // Each target in turn (a new random order every cycle: what a burst leaves behind, such as a
          // collection in the client, does not always fall on the same next target) gets one burst of --streams
          // requests started together; the next burst starts when every answer of this one has ended. As long in
          // all as the windows of the other patterns.
          const until = performance.now() + ROUNDS * SECONDS * 1000 * targets.length;
          for (let burst = 0; performance.now() < until; burst++) {
            for (const t of shuffled(targets)) {
              const done = cpu.measure(t.name);
              const answers = await Promise.all(Array.from({ length: STREAMS }, () => stream(t.url, body)));
              done();
              // The first burst of each target warms its connections: not counted.
              record(t, burst > 0 ? answers.map((a) => a.firstMs) : [], STREAMS);
            }
          }
        } else {
          for (let round = 0; round < ROUNDS; round++) {
            for (const t of rotate(targets, round)) {
              const until = performance.now() + SECONDS * 1000;
              const warm = performance.now() + 500 + (arrival === 'spread' ? answerMs : 0);
              const done = cpu.measure(t.name);
              const firstMs: number[] = [];
              let sent = 0;
              await Promise.all(Array.from({ length: STREAMS }, async (_, i) => {
                if (arrival === 'spread') await new Promise((r) => setTimeout(r, (i * answerMs) / STREAMS));
                while (performance.now() < until) {
                  const r = await stream(t.url, body);
                  sent++;
                  if (performance.now() > warm) firstMs.push(r.firstMs);
                }
              }));
              done();
              record(t, firstMs, sent);
            }
          }
        }
        const stats = new Map([...samples].map(([name, s]) => { s.sort((a, b) => a - b); return [name, { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length }]; }));
        const d = stats.get('direct')!;
        process.stdout.write(`\ntime to first chunk, ${STREAMS} concurrent streams, ${arrival} arrivals (ms):\n  target    p50     p99     added p50  added p99  samples\n`);
        for (const [name, s] of stats) {
          process.stdout.write(`  ${name.padEnd(9)} ${fmt(s.p50).padStart(6)}  ${fmt(s.p99).padStart(6)}  ${name === 'direct' ? '' : `${fmt(s.p50 - d.p50).padStart(9)}  ${fmt(s.p99 - d.p99).padStart(9)}`}  ${name === 'direct' ? ' '.repeat(20) : ''} ${s.n}\n`);
        }
        process.stdout.write(cpu.report(requests, 'request'));
      }
    }

    let streamRss = NaN;
    let streamRssB = NaN;
    if (PHASES.has('chunks') || PHASES.has('rss')) {
      // Long answers at --token-rate per stream: 100 streams at 50 tokens/s offer 5,000 chunks/s.
      // Long enough to outlast the window, no longer: the stand-in builds each answer's tokens up front, and
      // 100 answers of 100,000 tokens cost it more CPU than the streaming itself.
      await setStandIn(standInUrl, { tokensPerSecond: TOKEN_RATE, answerTokens: Math.ceil(TOKEN_RATE * (SECONDS + 5)) });
      const received = new Map<string, number>();
      const rates = new Map<string, number[]>(targets.map((t) => [t.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const t of rotate(targets, round)) {
          let lines = 0;
          let counting = false;
          const controllers: http.ClientRequest[] = [];
          const body = JSON.stringify({ model: 'phi3:mini', prompt: 'chunks per second' });
          for (let i = 0; i < CHUNK_STREAMS; i++) {
            const req = http.request(`${t.url}/api/generate`, { method: 'POST', agent: false }, (res) => {
              res.on('data', (chunk: Buffer) => {
                if (!counting) return;
                for (let j = chunk.indexOf(10); j !== -1; j = chunk.indexOf(10, j + 1)) lines++;
              });
              res.on('error', () => undefined);
            });
            req.on('error', () => undefined);
            req.end(body);
            controllers.push(req);
          }
          await new Promise((r) => setTimeout(r, 1000));
          counting = true;
          const t0 = performance.now();
          const done = cpu.measure(t.name);
          let maxRss = 0;
          let maxRssB = 0;
          while (performance.now() - t0 < SECONDS * 1000) {
            await new Promise((r) => setTimeout(r, 250));
            if (t.name === 'gateway') maxRss = Math.max(maxRss, rssMb(gateway.pid!));
            if (t.name === 'gateway-b') maxRssB = Math.max(maxRssB, rssMb(gatewayB!.pid!));
          }
          done();
          received.set(t.name, (received.get(t.name) ?? 0) + lines);
          rates.get(t.name)!.push(lines / ((performance.now() - t0) / 1000));
          counting = false;
          for (const req of controllers) req.destroy();
          if (t.name === 'gateway') streamRss = Math.max(Number.isNaN(streamRss) ? 0 : streamRss, maxRss);
          if (t.name === 'gateway-b') streamRssB = Math.max(Number.isNaN(streamRssB) ? 0 : streamRssB, maxRssB);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      if (PHASES.has('chunks')) {
        const direct = median(rates.get('direct')!);
        process.stdout.write(`\nchunks per second over ${CHUNK_STREAMS} concurrent streams (median of ${ROUNDS} rounds; offered ${CHUNK_STREAMS * TOKEN_RATE}/s):\n`);
        for (const [name, r] of rates) process.stdout.write(`  ${name.padEnd(9)} ${fmt(median(r), 0).padStart(8)}/s  ${fmt((100 * median(r)) / direct, 1)} % of direct   rounds: ${r.map((x) => x.toFixed(0)).join(', ')}\n`);
        process.stdout.write(cpu.report(received, 'chunk'));
      } else cpu.report();
    }

    if (PHASES.has('tags')) {
      const lat = new Map<string, number[]>(targets.map((t) => [t.name, []]));
      const thr = new Map<string, number[]>(targets.map((t) => [t.name, []]));
      const served = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const t of rotate(targets, round)) {
          const samples = lat.get(t.name)!;
          await sendPaced(RATE, RATE, () => get(`${t.url}/api/tags`)); // 1 s warm-up, not counted
          await sendPaced(RATE, RATE * SECONDS, async () => {
            const t0 = performance.now();
            await get(`${t.url}/api/tags`);
            samples.push(performance.now() - t0);
          });
          const done = cpu.measure(t.name);
          const rate = await wrk(`${t.url}/api/tags`, SECONDS);
          done();
          served.set(t.name, (served.get(t.name) ?? 0) + rate * SECONDS);
          thr.get(t.name)!.push(rate);
        }
      }
      const nginx = median(thr.get('nginx')!);
      process.stdout.write(`\nGET /api/tags: paced ${RATE} req/s (latency ms) and closed loop (wrk -t1 -c32, req/s, median of ${ROUNDS}):\n`);
      for (const t of targets) {
        const s = lat.get(t.name)!.sort((a, b) => a - b);
        process.stdout.write(`  ${t.name.padEnd(9)} p50 ${fmt(percentile(s, 50))}  p99 ${fmt(percentile(s, 99))}   throughput ${fmt(median(thr.get(t.name)!), 0)}/s  (${fmt((100 * median(thr.get(t.name)!)) / nginx, 1)} % of nginx)\n`);
      }
      process.stdout.write('  (CPU during the wrk runs; wrk itself is not counted)\n');
      process.stdout.write(cpu.report(served, 'request'));
    }

    if (PHASES.has('rss')) {
      process.stdout.write(`\ngateway RSS: at rest ${fmt(restRss, 1)} MB, highest during ${CHUNK_STREAMS} streams ${fmt(streamRss, 1)} MB (goal < 100 MB)\n`);
      if (gatewayB) process.stdout.write(`gateway-b RSS: at rest ${fmt(restRssB, 1)} MB, highest during ${CHUNK_STREAMS} streams ${fmt(streamRssB, 1)} MB\n`);
    }

    if (PHASES.has('soak')) {
      // A gateway of its own, fresh, that prints each collection (--trace-gc): the live heap after every full
      // collection is what a leak would grow, free of the noise of when the collector last ran.
      const soakPort = await pickPort(0);
      const soakGateway = spawnGateway('gateway-soak', soakPort, [...RECEIVER_NODE_FLAGS, '--trace-gc'], args.dist);
      const soakUrl = `http://127.0.0.1:${soakPort}`;
      await waitForHttp(`${soakUrl}/api/version`, { timeoutMs: 20_000 });
      await soak(soakUrl, standInUrl, soakGateway.pid!, path.join(dir, 'gateway-soak.log'));
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    agent.destroy();
  }
}

/** Mixed traffic through the gateway; RSS sampled every 10 s after the first minute (or a sixth of the soak). */
async function soak(gatewayUrl: string, standInUrl: string, pid: number, gcLog: string): Promise<void> {
  await setStandIn(standInUrl, { tokensPerSecond: TOKEN_RATE, answerTokens: 40 });
  const end = performance.now() + SOAK_SECONDS * 1000;
  const warmUp = performance.now() + Math.min(60, SOAK_SECONDS / 6) * 1000;
  const samples: Array<[number, number]> = [];
  let requests = 0;
  let failures = 0;
  const body = JSON.stringify({ model: 'phi3:mini', prompt: 'soak' });
  const worker = async (kind: number) => {
    while (performance.now() < end) {
      try {
        if (kind % 4 === 0) await stream(gatewayUrl, body);
        else if (kind % 4 === 1) await get(`${gatewayUrl}/api/tags`);
        else if (kind % 4 === 2) await abortedStream(gatewayUrl, body);
        else await fetch(`${gatewayUrl}/api/generate`, { method: 'POST', body: '{"model":"missing","prompt":"x","stream":false}' }).then((r) => r.text());
        requests++;
      } catch {
        failures++;
      }
    }
  };
  const sampler = (async () => {
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 10_000));
      if (performance.now() > warmUp) samples.push([performance.now() / 1000, rssMb(pid)]);
    }
  })();
  await Promise.all([...Array.from({ length: 40 }, (_, i) => worker(i)), sampler]);
  const rss = samples.map((s) => s[1]);
  const slope = linearSlope(samples) * 3600;
  process.stdout.write(`\nsoak: ${SOAK_SECONDS} s of mixed traffic (40 clients: streams, tags, aborted streams, 404s), ${requests} requests, ${failures} failed\n`);
  process.stdout.write(`  gateway RSS after warm-up: first ${fmt(rss[0], 1)} MB, last ${fmt(rss.at(-1)!, 1)} MB, max ${fmt(Math.max(...rss), 1)} MB, slope ${fmt(slope, 1)} MB/h over ${samples.length} samples\n`);
  // The slope of a few minutes is noisy (a collection moves RSS by MBs): the thirds' medians show a trend too.
  const third = Math.max(1, Math.floor(rss.length / 3));
  process.stdout.write(`  median of the first / middle / last third: ${[rss.slice(0, third), rss.slice(third, rss.length - third), rss.slice(-third)].map((p) => fmt(median(p), 1)).join(' / ')} MB\n`);
  process.stdout.write(`  samples (MB, every 10 s): ${rss.map((r) => r.toFixed(1)).join(' ')}\n`);
  // --trace-gc: "[pid:0x..]   61234 ms: Mark-Compact 41.2 (55.0) -> 38.9 (54.1) MB, ..." (heap used before -> after).
  const fullGcs = [...fs.readFileSync(gcLog, 'utf8').matchAll(/\s(\d+) ms: Mark-Compact[^\d]*[\d.]+ \([\d.]+\) -> ([\d.]+) \(/g)]
    .map((m) => [Number(m[1]) / 1000, Number(m[2])] as [number, number]);
  const afterWarmUp = fullGcs.filter(([t]) => t >= Math.min(60, SOAK_SECONDS / 6));
  const live = afterWarmUp.map(([, mb]) => mb);
  const part = Math.max(1, Math.floor(live.length / 3));
  process.stdout.write(`  live heap after each full collection, ${live.length} after the warm-up: median of the first / last third ${fmt(median(live.slice(0, part)), 1)} / ${fmt(median(live.slice(-part)), 1)} MB, range ${fmt(Math.min(...live), 1)}-${fmt(Math.max(...live), 1)} MB, slope ${fmt(linearSlope(afterWarmUp) * 3600, 2)} MB/h\n`);
}

function abortedStream(url: string, body: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/api/generate`, { method: 'POST', agent: false }, (res) => {
      res.once('data', () => req.destroy());
      res.on('error', () => undefined);
      res.on('close', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(body);
  });
}

function wrk(url: string, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => execFile('wrk', ['-t1', '-c32', `-d${seconds}s`, url], (err, stdout) => {
    if (err) return reject(err);
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    if (!rate) return reject(new Error(`no Requests/sec in wrk's output:\n${stdout}`));
    resolve(Number(rate[1]));
  }));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

function linearSlope(points: Array<[number, number]>): number {
  if (points.length < 2) return NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / points.length;
  const my = points.reduce((s, p) => s + p[1], 0) / points.length;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return num / den;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
