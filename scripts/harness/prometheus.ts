/**
 * Live-test helpers: a real Prometheus (Debian's /usr/bin/prometheus) on a free port, and a small
 * prom-client exporter whose values a test sets.
 *
 *   const exporter = await startTestExporter();
 *   exporter.set('node_load1', 1);                                  // gauge, no labels
 *   exporter.set('node_cpu_seconds_total', 12, { cpu: '0', mode: 'idle' }, 'counter');
 *   const prom = await startPrometheus({
 *     ruleFiles: ['rules/ai-dispatcher.rules.yml'],
 *     scrapeConfigs: [{ job: 'node', targets: [exporter.address] }],
 *   });
 *   await prom.waitFor(async () => (await prom.query('up')).length > 0);
 *   await prom.restart();                                           // same data dir
 *   await prom.stop(); await exporter.close();
 *
 * API
 * - startPrometheus(options) -> PrometheusServer
 *     ruleFiles            rule files (absolute or relative to the repository root)
 *     scrapeConfigs        [{ job, targets: ['127.0.0.1:PORT'], metricsPath?, scrapeInterval?, honorLabels? }]
 *     alertmanagers        ['127.0.0.1:PORT', ...] (alerting.alertmanagers static config)
 *     scrapeInterval / evaluationInterval   default '1s'
 *     dataDir              reuse a TSDB directory (default: a new temp dir, removed by stop())
 *     extraArgs            more prometheus flags
 *   PrometheusServer:
 *     url, port, dir (temp dir: prometheus.yml, data/, prometheus.log), dataDir
 *     query(expr, time?) -> InstantSample[]        GET /api/v1/query; throws on an API error
 *     api(path, params?) -> parsed JSON `data`     any GET endpoint under /api/v1
 *     metrics() -> string                          Prometheus's own /metrics text
 *     waitFor(check, { timeoutMs, intervalMs, what })   polls until check() is truthy, returns its value
 *     reload()                                     POST /-/reload (after editing the config or rule files)
 *     restart(changes?)  stop, then start again on the same port and data dir; `changes` may replace
 *                        ruleFiles / scrapeConfigs / alertmanagers / intervals
 *     halt()             stop the process keeping dir and data (Prometheus is "down"); resume with restart()
 *     stop()             SIGTERM, wait for exit (SIGKILL after 10 s); removes the temp dir unless the
 *                        caller supplied dataDir. Safe to call twice.
 *     logs()             the server log so far (for failure messages)
 * - RECOMMENDATION_QUERY: the client query of rules/README.md (ai:recommended_model_options, one row per pair)
 * - startTestExporter({ port? }) -> TestExporter (HTTP /metrics on 127.0.0.1, its own prom-client Registry)
 *     address ('127.0.0.1:PORT'), url
 *     set(name, value, labels?, type = 'gauge' | 'counter')   creates the metric on first use
 *     remove(name, labels?)      drop one series (labels given) or the whole metric
 *     setDown(true|false)        answer /metrics with HTTP 503 (Prometheus records up == 0)
 *     onScrape(fn)               run fn before every scrape (e.g. advance counters with the clock)
 *     close()
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { eventually, type PollOptions } from './eventually';
import { freePort } from './free-port';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The documented client query (rules/README.md, "The client query"): one row per
 * (complexity, task_type) with model, priority, timeout_seconds, temperature and num_predict, also
 * right after a Prometheus restart (per pair it keeps the row recorded last; the value is when).
 */
export const RECOMMENDATION_QUERY = 'topk by (complexity, task_type) (1, timestamp(ai:recommended_model_options))';
const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 10_000;

export interface ScrapeConfig {
  job: string;
  targets: string[];
  metricsPath?: string;
  scrapeInterval?: string;
  honorLabels?: boolean;
}

export interface PrometheusOptions {
  ruleFiles?: string[];
  scrapeConfigs?: ScrapeConfig[];
  alertmanagers?: string[];
  scrapeInterval?: string;
  evaluationInterval?: string;
  dataDir?: string;
  extraArgs?: string[];
}

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
  /** evaluation time of the query, in seconds */
  time: number;
}

type WaitOptions = Pick<PollOptions, 'what' | 'timeoutMs' | 'intervalMs'>;

export interface PrometheusServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly dataDir: string;
  query(expr: string, time?: number): Promise<InstantSample[]>;
  api<T = unknown>(apiPath: string, params?: Record<string, string>): Promise<T>;
  metrics(): Promise<string>;
  waitFor<T>(check: () => Promise<T> | T, options?: WaitOptions): Promise<NonNullable<T>>;
  reload(): Promise<void>;
  restart(changes?: Partial<Omit<PrometheusOptions, 'dataDir'>>): Promise<void>;
  halt(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
}

function renderConfig(options: PrometheusOptions): string {
  const ruleFiles = (options.ruleFiles ?? []).map((f) => path.resolve(REPO_ROOT, f));
  const config = {
    global: {
      scrape_interval: options.scrapeInterval ?? '1s',
      scrape_timeout: options.scrapeInterval ?? '1s',
      evaluation_interval: options.evaluationInterval ?? '1s',
    },
    rule_files: ruleFiles,
    ...(options.alertmanagers && options.alertmanagers.length > 0
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }] } }
      : {}),
    scrape_configs: (options.scrapeConfigs ?? []).map((s) => ({
      job_name: s.job,
      ...(s.metricsPath ? { metrics_path: s.metricsPath } : {}),
      ...(s.scrapeInterval ? { scrape_interval: s.scrapeInterval, scrape_timeout: s.scrapeInterval } : {}),
      ...(s.honorLabels ? { honor_labels: true } : {}),
      static_configs: [{ targets: s.targets }],
    })),
  };
  // JSON is valid YAML: no YAML library needed to write the config.
  return JSON.stringify(config, null, 2);
}

export async function startPrometheus(initial: PrometheusOptions): Promise<PrometheusServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-prom-'));
  const dataDir = initial.dataDir ?? path.join(dir, 'data');
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  let options: PrometheusOptions = { ...initial };
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const base = () => `http://127.0.0.1:${port}`;

  async function launch(): Promise<void> {
    fs.writeFileSync(configFile, renderConfig(options));
    // The port is free when freePort() returns but could be taken before Prometheus binds it: retry.
    for (let attempt = 1; ; attempt++) {
      if (port === 0 || attempt > 1) port = await freePort();
      const log = fs.openSync(logFile, 'a');
      const proc = spawn(
        PROMETHEUS_BIN,
        [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${dataDir}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-lifecycle',
          ...(options.extraArgs ?? []),
        ],
        { stdio: ['ignore', log, log] },
      );
      fs.closeSync(log);
      child = proc;
      exited = new Promise((resolve) => proc.once('exit', () => resolve()));
      try {
        await eventually(
          'Prometheus /-/ready',
          async () => {
            if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}`);
            const res = await fetch(`${base()}/-/ready`);
            return res.ok;
          },
          READY_TIMEOUT_MS,
        );
        return;
      } catch (err) {
        await kill();
        const portTaken = /address already in use/.test(readLog());
        if (!portTaken || attempt >= 3) {
          throw new Error(`${(err as Error).message}\n--- prometheus.log ---\n${readLog().slice(-4000)}`, { cause: err });
        }
      }
    }
  }

  async function kill(): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  function readLog(): string {
    try {
      return fs.readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async function api<T>(apiPath: string, params: Record<string, string> = {}): Promise<T> {
    const qs = new URLSearchParams(params).toString();
    const res = await fetch(`${base()}/api/v1/${apiPath.replace(/^\//, '')}${qs ? `?${qs}` : ''}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus API ${apiPath}: ${res.status} ${body.error}`);
    return body.data;
  }

  await launch();

  const server: PrometheusServer = {
    get url() {
      return base();
    },
    get port() {
      return port;
    },
    dir,
    dataDir,
    async query(expr, time) {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
        'query',
        time === undefined ? { query: expr } : { query: expr, time: String(time) },
      );
      if (data.resultType !== 'vector') throw new Error(`expected a vector, got ${data.resultType}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]), time: r.value[0] }));
    },
    api,
    async metrics() {
      const res = await fetch(`${base()}/metrics`);
      return res.text();
    },
    waitFor<T>(check: () => Promise<T> | T, { what = 'a condition', timeoutMs, intervalMs = 200 }: WaitOptions = {}) {
      return eventually(what, check, timeoutMs, intervalMs) as Promise<NonNullable<T>>;
    },
    async reload() {
      fs.writeFileSync(configFile, renderConfig(options));
      const res = await fetch(`${base()}/-/reload`, { method: 'POST' });
      if (!res.ok) throw new Error(`reload failed: ${res.status} ${await res.text()}`);
    },
    async restart(changes = {}) {
      await kill();
      options = { ...options, ...changes };
      await launch();
    },
    halt: kill,
    async stop() {
      await kill();
      if (!initial.dataDir) fs.rmSync(dir, { recursive: true, force: true });
    },
    logs: readLog,
  };
  return server;
}

export type MetricType = 'gauge' | 'counter';

export interface TestExporter {
  readonly address: string;
  readonly url: string;
  set(name: string, value: number, labels?: Record<string, string>, type?: MetricType): void;
  remove(name: string, labels?: Record<string, string>): void;
  setDown(down: boolean): void;
  onScrape(fn: () => void): void;
  close(): Promise<void>;
}

export async function startTestExporter(options: { port?: number } = {}): Promise<TestExporter> {
  const registry = new Registry();
  const metrics = new Map<string, { metric: Gauge | Counter; type: MetricType; labelNames: string[] }>();
  const counterValues = new Map<string, number>();
  const scrapeHooks: (() => void)[] = [];
  let down = false;

  function metricFor(name: string, labels: Record<string, string>, type: MetricType) {
    const existing = metrics.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`${name} is a ${existing.type}, not a ${type}`);
      return existing;
    }
    const labelNames = Object.keys(labels).sort();
    const config = { name, help: `test metric ${name}`, labelNames, registers: [registry] };
    const metric = type === 'gauge' ? new Gauge(config) : new Counter(config);
    const entry = { metric, type, labelNames };
    metrics.set(name, entry);
    return entry;
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      if (down) {
        res.writeHead(503).end('down\n');
        return;
      }
      for (const hook of scrapeHooks) hook();
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
    })().catch((err: Error) => res.writeHead(500).end(err.message));
  });
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('exporter has no TCP address');
  const address = `127.0.0.1:${addr.port}`;

  return {
    address,
    url: `http://${address}/metrics`,
    set(name, value, labels = {}, type = 'gauge') {
      const { metric } = metricFor(name, labels, type);
      if (metric instanceof Gauge) {
        metric.set(labels, value);
        return;
      }
      // A counter only goes up: move it to `value` by the difference (a lower value resets it).
      const key = seriesKey(name, labels);
      const now = counterValues.get(key) ?? 0;
      if (value < now) metric.remove(labels);
      metric.inc(labels, value < now ? value : value - now);
      counterValues.set(key, value);
    },
    remove(name, labels) {
      const entry = metrics.get(name);
      if (!entry) return;
      if (labels) {
        entry.metric.remove(labels);
        counterValues.delete(seriesKey(name, labels));
      } else {
        for (const key of [...counterValues.keys()]) if (key.startsWith(`${name}{`)) counterValues.delete(key);
        registry.removeSingleMetric(name);
        metrics.delete(name);
      }
    },
    setDown(value) {
      down = value;
    },
    onScrape(fn) {
      scrapeHooks.push(fn);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}
