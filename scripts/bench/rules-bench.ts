/**
 * Benchmark of the rules bundle on one live Prometheus (Debian's 2.42), in one run:
 *   0. warm-up (default 300 s, Prometheus's 5 min lookback): every instant selector then reads a full
 *      lookback window, as in any Prometheus that has run for 5 minutes (the first minutes are cheaper);
 *   1. rule group evaluation time (prometheus_rule_group_last_duration_seconds, median over a minute)
 *      and samples per evaluation (prometheus_rule_group_last_evaluation_samples) with 1 scraped host;
 *   2. a client's cost of one recommendation: the documented query for one (complexity, task_type)
 *      pair against the original design's 13 sequential queries (README.md, "Where it comes from"),
 *      interleaved, as median latencies and their ratio (1 host);
 *   3. the same group metrics with HOSTS hosts, after the same warm-up: the samples must not grow with
 *      the hosts.
 *
 * The 1 host is this machine's real node exporter (Debian's prometheus-node-exporter, installed by
 * scripts/install-deps.sh); the other hosts of phase 3, Ollama, cAdvisor, n8n and the receiver are
 * stand-ins serving the series the rules and the original design's queries read. The receiver stand-in is up and
 * reaches Docker, so no alert is active: the state of a healthy stack (an active alert adds the
 * expansion of its annotations to every evaluation).
 *
 *   npx tsx scripts/bench/rules-bench.ts [--hosts 20] [--seconds 60] [--warmup 300] [--interval 1]
 *
 * --interval sets the scrape and evaluation interval in seconds (default 1, so that a minute holds 60
 * evaluations; an instant selector reads every sample of its 5 min lookback, 300 at 1 s, 20 at 15 s).
 *
 * Goals (issue 2): single query >= 15x cheaper; evaluation < 5 ms median; bounded samples.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import {
  RECOMMENDATION_QUERY,
  TestExporter,
  startPrometheus,
  startTestExporter,
} from '../harness/prometheus';
import { freePort } from '../harness/free-port';
import { waitForHttp } from '../stack/processes';

const RULE_FILES = ['rules/ai-dispatcher.rules.yml', 'rules/ai-dispatcher.alerts.yml'];

/** The 13 PromQL queries the original design's client-side selector sends per recommendation, in its order. */
export const ORIGINAL_DESIGN_QUERIES = [
  'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100',
  '100 - (avg(rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
  'node_load1',
  'node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"} * 100',
  'ollama_model_load_duration_seconds',
  'ollama_models_loaded',
  'ollama_requests_queued',
  'rate(ollama_request_duration_seconds[5m])',
  'rate(ollama_requests_failed_total[5m])',
  'container_memory_usage_bytes{name="ollama"}',
  'rate(container_cpu_usage_seconds_total{name="ollama"}[5m])',
  'container_last_seen{name="ollama"}',
  'rate(container_network_receive_bytes_total{name="ollama"}[5m])',
];

/** One recommendation, as a client asks for it (rules/README.md's curl example): the documented query for one pair. */
export const PAIR_QUERY = RECOMMENDATION_QUERY.replace(
  'timestamp(ai:recommended_model_options)',
  'timestamp(ai:recommended_model_options{complexity="high", task_type="analysis"})',
);
if (PAIR_QUERY === RECOMMENDATION_QUERY) throw new Error('could not narrow the documented query to one pair');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This machine's node exporter, on a free port. */
export async function startNodeExporter(): Promise<{ address: string; close(): Promise<void> }> {
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawn('prometheus-node-exporter', [`--web.listen-address=${address}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', () => undefined); // not installed: the wait below fails and says so
  try {
    await waitForHttp(`http://${address}/metrics`, { timeoutMs: 10_000 });
  } catch (err) {
    child.kill();
    throw new Error(`prometheus-node-exporter did not start (install it with scripts/install-deps.sh): ${(err as Error).message}`, { cause: err });
  }
  return { address, close: async () => void (child.kill(), await exited) };
}

/** A stand-in host for phase 3, like node exporter's: 4 CPUs with all modes, clock, memory, load, filesystem. */
export async function startHost(): Promise<TestExporter> {
  const e = await startTestExporter();
  const start = Date.now();
  const modes = ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'nice', 'steal'];
  const share: Record<string, number> = { idle: 0.7, user: 0.2, system: 0.06, iowait: 0.04 };
  e.onScrape(() => {
    const now = Date.now();
    const t = 100_000 + (now - start) / 1000;
    for (let cpu = 0; cpu < 4; cpu++)
      for (const mode of modes) e.set('node_cpu_seconds_total', t * (share[mode] ?? 0) + 1, { cpu: String(cpu), mode }, 'counter');
    e.set('node_time_seconds', now / 1000);
    e.set('node_memory_MemAvailable_bytes', 6 * 2 ** 30 + Math.random() * 2 ** 20);
    e.set('node_memory_MemTotal_bytes', 16 * 2 ** 30);
    e.set('node_load1', 1 + Math.random());
    e.set('node_filesystem_avail_bytes', 50 * 2 ** 30, { mountpoint: '/', device: '/dev/sda1' });
    e.set('node_filesystem_size_bytes', 100 * 2 ** 30, { mountpoint: '/', device: '/dev/sda1' });
  });
  return e;
}

/** Ollama exporter, cAdvisor, n8n and receiver stand-ins with the series the rules and the original design's queries read. */
export async function startServices(): Promise<TestExporter> {
  const e = await startTestExporter();
  const start = Date.now();
  e.onScrape(() => {
    const t = (Date.now() - start) / 1000;
    for (const model of ['phi3:mini', 'llama3.2:3b', 'qwen2.5:7b']) {
      e.set('ollama_requests_total', Math.floor(t / 3), { model }, 'counter');
      e.set('ollama_requests_failed_total', Math.floor(t / 60), { model }, 'counter');
      e.set('ollama_request_duration_seconds_sum', t * 2, { model }, 'counter');
      e.set('ollama_request_duration_seconds_count', Math.floor(t / 3), { model }, 'counter');
      e.set('ollama_request_duration_seconds', 2.5, { model });
      e.set('ollama_model_load_duration_seconds', 1.2, { model });
    }
    e.set('ollama_requests_queued', 1);
    e.set('ollama_models_loaded', 2);
    for (const name of ['ollama', 'n8n', 'prometheus', 'grafana']) {
      e.set('container_memory_working_set_bytes', 2 * 2 ** 30, { name });
      e.set('container_memory_usage_bytes', 2.5 * 2 ** 30, { name });
      e.set('container_cpu_usage_seconds_total', t * 0.3, { name }, 'counter');
      e.set('container_network_receive_bytes_total', t * 1000, { name, interface: 'eth0' }, 'counter');
      e.set('container_last_seen', Date.now() / 1000, { name });
    }
    e.set('n8n_scaling_mode_queue_jobs_waiting', 0);
    e.set('n8n_workflow_started_total', Math.floor(t / 10), { workflow_id: 'w1', workflow_name: 'AI triage' }, 'counter');
    e.set('n8n_workflow_success_total', Math.floor(t / 10), { workflow_id: 'w1', workflow_name: 'AI triage' }, 'counter');
    e.set('ai_dispatcher_docker_up', 1);
    e.set('ai_dispatcher_actions_total', 1, { target: 'ollama', action: 'start', result: 'success' }, 'counter');
  });
  return e;
}

export interface GroupStats {
  duration: number[];
  samples: number[];
}

export function parseGroupMetrics(text: string, stats: Map<string, GroupStats>, sums: number[]) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^prometheus_rule_group_last_(duration_seconds|evaluation_samples)\{rule_group="[^;"]*;([^"]+)"\} (\S+)$/.exec(line);
    if (!m) continue;
    const [, kind, group, value] = m;
    const s = stats.get(group) ?? { duration: [], samples: [] };
    stats.set(group, s);
    if (kind === 'duration_seconds') {
      s.duration.push(Number(value) * 1000);
      sum += Number(value) * 1000;
    } else s.samples.push(Number(value));
  }
  sums.push(sum);
}

type Client = (url: string) => Promise<string>;

/** The original design's client: fetch (undici, keep-alive). */
export const viaFetch: Client = async (url) => (await fetch(url)).text();

/** A leaner client: node:http with one keep-alive socket (much less per-request overhead than fetch). */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const viaHttp: Client = (url) =>
  new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

export async function timed(client: Client, url: string, queries: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (const q of queries) {
    const body = JSON.parse(await client(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)) as { status: string };
    if (body.status !== 'success') throw new Error(`query failed: ${q}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main() {
  const hosts = arg('hosts', 20);
  const seconds = arg('seconds', 60);
  const warmup = arg('warmup', 300);
  const intervalSeconds = arg('interval', 1);
  const interval = `${intervalSeconds}s`;
  const readyTimeoutMs = 30_000 + 4 * intervalSeconds * 1000; // two scrapes for the CPU rate, then an evaluation
  const hostExporters: { address: string; close(): Promise<void> }[] = [await startNodeExporter()];
  const services = await startServices();
  const scrapeConfigs = (n: number) => [
    { job: 'node', targets: hostExporters.slice(0, n).map((e) => e.address) },
    { job: 'ollama', targets: [services.address] },
    { job: 'cadvisor', targets: [services.address] },
    { job: 'n8n', targets: [services.address] },
    { job: 'ai-dispatcher', targets: [services.address] },
  ];
  const prom = await startPrometheus({
    ruleFiles: RULE_FILES,
    scrapeConfigs: scrapeConfigs(1),
    scrapeInterval: interval,
    evaluationInterval: interval,
  });
  const cleanup = async () => {
    await prom.stop();
    for (const e of [...hostExporters, services]) await e.close();
  };
  try {
    console.log(`Prometheus ${prom.url}, rule files ${RULE_FILES.join(', ')}, ${interval} scrape and evaluation, ${warmup} s warm-up`);
    await prom.waitFor(async () => (await prom.query(RECOMMENDATION_QUERY)).length === 6 && (await prom.query('ai:node_cpu_utilisation:max_rate2m')).length === 1, {
      timeoutMs: readyTimeoutMs,
      what: 'the recommendation',
    });

    await sleep(warmup * 1000);

    // Phase 1: one host; group metrics every second for a minute, nothing else querying Prometheus.
    const loadBefore = loadavg();
    const one = new Map<string, GroupStats>();
    const sumsOne: number[] = [];
    for (let i = 0; i < seconds; i++) {
      parseGroupMetrics(await prom.metrics(), one, sumsOne);
      await sleep(1000);
    }

    const activeAlerts = (await prom.query('ALERTS')).map((a) => `${a.metric.alertname} (${a.metric.alertstate})`);

    // Phase 2: the client's cost of one recommendation, interleaved in rotating order: the documented
    // query for one pair and the original design's 13 queries, with its client (fetch) and
    // with a leaner one (node:http); for information the query for all six pairs and an empty query
    // (the floor of any request). One host, as in the original design's stack.
    const runs: Record<string, number[]> = {};
    const step = (name: string, client: Client, queries: string[]) => async () => {
      (runs[name] ??= []).push(await timed(client, prom.url, queries));
    };
    const steps = [
      step('pair/fetch', viaFetch, [PAIR_QUERY]),
      step('13/fetch', viaFetch, ORIGINAL_DESIGN_QUERIES),
      step('pair/http', viaHttp, [PAIR_QUERY]),
      step('13/http', viaHttp, ORIGINAL_DESIGN_QUERIES),
      step('all/fetch', viaFetch, [RECOMMENDATION_QUERY]),
      step('floor/fetch', viaFetch, ['vector(1)']),
      step('floor/http', viaHttp, ['vector(1)']),
    ];
    const deadline = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < deadline; i++) {
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]();
      await sleep(20);
    }

    // Phase 3: HOSTS hosts, after the same warm-up as phase 1 (the new hosts' lookback and 2 min CPU
    // windows full, as in a Prometheus that has scraped them for a while); group metrics as in phase 1.
    for (let i = 1; i < hosts; i++) hostExporters.push(await startHost());
    await prom.restart({ scrapeConfigs: scrapeConfigs(hosts) });
    await prom.waitFor(async () => (await prom.query('count(up{job="node"} == 1)'))[0]?.value === hosts, {
      timeoutMs: readyTimeoutMs,
      what: `${hosts} hosts up`,
    });
    await sleep(warmup * 1000);
    const many = new Map<string, GroupStats>();
    const sumsMany: number[] = [];
    for (let i = 0; i < seconds; i++) {
      parseGroupMetrics(await prom.metrics(), many, sumsMany);
      await sleep(1000);
    }

    const metricsText = await prom.metrics();
    const evalFailures = metricsText
      .split('\n')
      .filter((l) => l.startsWith('prometheus_rule_evaluation_failures_total{'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

    const table = (title: string, stats: Map<string, GroupStats>, sums: number[]) => {
      console.log(`\n${title}`);
      let samples = 0;
      for (const [group, st] of stats) {
        samples += median(st.samples);
        console.log(`  ${group.padEnd(34)} ${median(st.duration).toFixed(3).padStart(7)} ms   ${String(median(st.samples)).padStart(3)} samples`);
      }
      console.log(`  ${'all groups (median of the sums)'.padEnd(34)} ${median(sums).toFixed(3).padStart(7)} ms   ${String(samples).padStart(3)} samples`);
      const slowest = Math.max(...[...stats.values()].map((st) => median(st.duration)));
      return { total: median(sums), slowest, samples };
    };
    const a1 = table(`Rule groups, 1 host (median over ${seconds} s; load average ${loadBefore}):`, one, sumsOne);
    console.log(`  active alerts: ${activeAlerts.length ? activeAlerts.join(', ') : 'none'}`);
    const aN = table(`Rule groups, ${hosts} hosts (median over ${seconds} s after ${warmup} s):`, many, sumsMany);
    console.log(`  rule evaluation failures: ${evalFailures}; load average now ${loadavg()} (${os.cpus().length} CPUs)`);

    const m = (name: string) => median(runs[name]);
    const ratioFetch = m('13/fetch') / m('pair/fetch');
    const ratioHttp = m('13/http') / m('pair/http');
    console.log(`\nClient cost of one recommendation (${runs['pair/fetch'].length} interleaved rounds, 1 host scraped), medians:`);
    console.log(`  client                          fetch (orig. design)  node:http`);
    console.log(`  documented query, one pair      ${m('pair/fetch').toFixed(2).padStart(8)} ms        ${m('pair/http').toFixed(2).padStart(8)} ms`);
    console.log(`  original design's 13 queries    ${m('13/fetch').toFixed(2).padStart(8)} ms        ${m('13/http').toFixed(2).padStart(8)} ms`);
    console.log(`  ratio (goal >= 15x)             ${ratioFetch.toFixed(1).padStart(8)} x         ${ratioHttp.toFixed(1).padStart(8)} x`);
    console.log(`  floor: empty query vector(1)    ${m('floor/fetch').toFixed(2).padStart(8)} ms        ${m('floor/http').toFixed(2).padStart(8)} ms`);
    console.log(`  documented query, all six pairs ${m('all/fetch').toFixed(2).padStart(8)} ms`);
    console.log(
      `\nGoals: evaluation < 5 ms median (1 host) -> all groups together ${a1.total < 5 ? 'met' : 'NOT met'}, ` +
        `each group ${a1.slowest < 5 ? 'met' : 'NOT met'} (slowest ${a1.slowest.toFixed(2)} ms); ` +
        `samples bounded -> ${a1.samples === aN.samples ? `met (${a1.samples} with 1 and with ${hosts} hosts)` : 'NOT met'}; ` +
        `ratio >= 15x -> fetch ${ratioFetch >= 15 ? 'met' : 'NOT met'}, node:http ${ratioHttp >= 15 ? 'met' : 'NOT met'}`,
    );
  } finally {
    agent.destroy();
    await cleanup();
  }
}

// The helpers above are shared with inventory-rules-bench.ts; run the benchmark only when started itself.
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
