/**
 * Stand-in exporter: serves the n8n, cAdvisor (and, for tests and demos, node) metrics that the rules read,
 * with values a person or a test changes at runtime: n8n and cAdvisor are not part of this machine's
 * packages. The Ollama series come from the Ollama gateway in front of the Ollama stand-in, measured from
 * real requests (receiver/README.md, "Gateway"); nothing here invents them.
 *
 *   npx tsx scripts/stack/standin-exporter.ts --listen 127.0.0.1:9479 [--ollama-url http://127.0.0.1:11434]
 *
 *   GET  /metrics/n8n       n8n_scaling_mode_queue_jobs_waiting, n8n_scaling_mode_queue_jobs_active
 *   GET  /metrics/cadvisor  container_memory_working_set_bytes{name="ollama"} (see ollama-url below)
 *   GET  /metrics/node      node_memory_*, node_load1, node_time_seconds, node_cpu_seconds_total (the stack uses the real node exporter)
 *   GET  /values            the current values (JSON)
 *   POST /values            change some of them: curl -d '{"n8n_queue_jobs_waiting": 2}' URL/values
 *
 * With --ollama-url, the cAdvisor series exist only while Ollama (or its stand-in container) answers
 * /api/tags, as cAdvisor's series vanish when a container stops; without it they always exist.
 */
import http from 'node:http';

export const DEFAULT_VALUES = {
  /** n8n queue mode: executions waiting for a worker (the rules' default source of pending AI work). */
  n8n_queue_jobs_waiting: 0,
  n8n_queue_jobs_active: 0,
  /** Memory the ollama container holds (cAdvisor's working set). */
  ollama_container_memory_bytes: 1.5 * 2 ** 30,
  node_memory_available_bytes: 8 * 2 ** 30,
  node_memory_total_bytes: 16 * 2 ** 30,
  node_load1: 0.5,
  /** Fraction of CPU time not idle, 0..1; node_cpu_seconds_total{mode="idle"} grows accordingly. */
  node_cpu_busy_ratio: 0.1,
  node_cpus: 2,
};

export type StandInValues = typeof DEFAULT_VALUES;

const NON_NEGATIVE = (v: number) => v >= 0;
const CHECKS: Record<keyof StandInValues, [(v: number) => boolean, string]> = {
  n8n_queue_jobs_waiting: [NON_NEGATIVE, 'a number >= 0'],
  n8n_queue_jobs_active: [NON_NEGATIVE, 'a number >= 0'],
  ollama_container_memory_bytes: [NON_NEGATIVE, 'a number >= 0'],
  node_memory_available_bytes: [NON_NEGATIVE, 'a number >= 0'],
  node_memory_total_bytes: [NON_NEGATIVE, 'a number >= 0'],
  node_load1: [NON_NEGATIVE, 'a number >= 0'],
  node_cpu_busy_ratio: [(v) => v >= 0 && v <= 1, 'a number from 0 to 1'],
  node_cpus: [(v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'an integer from 1 to 1024'],
};

/** Checks a patch; returns every problem at once (empty when it can be applied). */
export function validatePatch(patch: unknown): string[] {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return ['the body must be a JSON object'];
  const errors: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const check = CHECKS[key as keyof StandInValues];
    if (!check) errors.push(`unknown value "${key}" (known: ${Object.keys(CHECKS).join(', ')})`);
    else if (typeof value !== 'number' || !Number.isFinite(value) || !check[0](value)) errors.push(`${key}: must be ${check[1]}`);
  }
  return errors;
}

export interface StandInOptions {
  /** When set, cAdvisor series exist only while GET {ollamaUrl}/api/tags answers 200. */
  ollamaUrl?: string;
  now?: () => number;
}

/** The values plus the counters that integrate them over time. */
export class StandInState {
  values: StandInValues;
  private cpuIdle: number[] = [];
  private cpuBusy: number[] = [];
  private last: number;

  constructor(initial: Partial<StandInValues> = {}, private readonly now: () => number = () => Date.now() / 1000) {
    this.values = { ...DEFAULT_VALUES, ...initial };
    this.last = now();
  }

  set(patch: Partial<StandInValues>): void {
    this.advance();
    this.values = { ...this.values, ...patch };
  }

  /** Integrates the rates since the last call, so counters move as a real exporter's would. */
  advance(): void {
    const t = this.now();
    const dt = Math.max(0, t - this.last);
    this.last = t;
    const v = this.values;
    while (this.cpuIdle.length < v.node_cpus) { this.cpuIdle.push(0); this.cpuBusy.push(0); }
    for (let cpu = 0; cpu < v.node_cpus; cpu++) {
      this.cpuIdle[cpu] += dt * (1 - v.node_cpu_busy_ratio);
      this.cpuBusy[cpu] += dt * v.node_cpu_busy_ratio;
    }
  }

  n8n(): string {
    const v = this.values;
    return [
      '# HELP n8n_scaling_mode_queue_jobs_waiting Current number of enqueued jobs waiting for pickup in scaling mode (stand-in).',
      '# TYPE n8n_scaling_mode_queue_jobs_waiting gauge',
      `n8n_scaling_mode_queue_jobs_waiting ${v.n8n_queue_jobs_waiting}`,
      '# HELP n8n_scaling_mode_queue_jobs_active Current number of jobs being processed across all workers in scaling mode (stand-in).',
      '# TYPE n8n_scaling_mode_queue_jobs_active gauge',
      `n8n_scaling_mode_queue_jobs_active ${v.n8n_queue_jobs_active}`,
      '',
    ].join('\n');
  }

  cadvisor(ollamaPresent: boolean): string {
    const lines = [
      '# HELP container_memory_working_set_bytes Current working set of the container in bytes (stand-in).',
      '# TYPE container_memory_working_set_bytes gauge',
    ];
    if (ollamaPresent) {
      lines.push(`container_memory_working_set_bytes{id="/docker/ollama",image="ollama/ollama",name="ollama"} ${this.values.ollama_container_memory_bytes}`);
    }
    return lines.join('\n') + '\n';
  }

  node(): string {
    this.advance();
    const v = this.values;
    const lines = [
      '# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes (stand-in).',
      '# TYPE node_memory_MemAvailable_bytes gauge',
      `node_memory_MemAvailable_bytes ${v.node_memory_available_bytes}`,
      '# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes (stand-in).',
      '# TYPE node_memory_MemTotal_bytes gauge',
      `node_memory_MemTotal_bytes ${v.node_memory_total_bytes}`,
      '# HELP node_load1 1m load average (stand-in).',
      '# TYPE node_load1 gauge',
      `node_load1 ${v.node_load1}`,
      '# HELP node_time_seconds System time in seconds since epoch (stand-in).',
      '# TYPE node_time_seconds gauge',
      `node_time_seconds ${this.last}`,
      '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode (stand-in).',
      '# TYPE node_cpu_seconds_total counter',
    ];
    for (let cpu = 0; cpu < v.node_cpus; cpu++) {
      lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="idle"} ${this.cpuIdle[cpu]}`);
      lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="user"} ${this.cpuBusy[cpu]}`);
    }
    return lines.join('\n') + '\n';
  }
}

function ollamaAnswers(url: string): Promise<boolean> {
  return fetch(new URL('/api/tags', url), { signal: AbortSignal.timeout(500) })
    .then((res) => { void res.body?.cancel(); return res.ok; }, () => false);
}

export function createStandInServer(state: StandInState, options: StandInOptions = {}): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    };
    const exposition = 'text/plain; version=0.0.4; charset=utf-8';
    if (req.method === 'GET' && url.pathname === '/metrics/n8n') return send(200, exposition, state.n8n());
    if (req.method === 'GET' && url.pathname === '/metrics/node') return send(200, exposition, state.node());
    if (req.method === 'GET' && url.pathname === '/metrics/cadvisor') {
      const present = options.ollamaUrl ? ollamaAnswers(options.ollamaUrl) : Promise.resolve(true);
      void present.then((p) => send(200, exposition, state.cadvisor(p)));
      return;
    }
    if (url.pathname === '/values' && req.method === 'GET') return send(200, 'application/json', JSON.stringify(state.values) + '\n');
    if (url.pathname === '/values' && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => { body += chunk; if (body.length > 64 * 1024) req.destroy(); });
      req.on('end', () => {
        let patch: unknown;
        try {
          patch = JSON.parse(body);
        } catch {
          return send(400, 'application/json', JSON.stringify({ errors: ['the body is not valid JSON'] }) + '\n');
        }
        const errors = validatePatch(patch);
        if (errors.length > 0) return send(400, 'application/json', JSON.stringify({ errors }) + '\n');
        state.set(patch as Partial<StandInValues>);
        send(200, 'application/json', JSON.stringify(state.values) + '\n');
      });
      return;
    }
    if (url.pathname === '/' && req.method === 'GET') {
      return send(200, 'text/plain', 'ai-dispatcher stand-in exporter: /metrics/{n8n,cadvisor,node}, GET/POST /values\n');
    }
    send(404, 'text/plain', 'not found\n');
  });
}

function parseArgs(argv: string[]): { host: string; port: number; ollamaUrl?: string; initial: Partial<StandInValues> } {
  let listen = '127.0.0.1:9479';
  let ollamaUrl: string | undefined;
  let initial: Partial<StandInValues> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--listen') listen = argv[++i];
    else if (arg === '--ollama-url') ollamaUrl = argv[++i];
    else if (arg === '--values') {
      const patch = JSON.parse(argv[++i]);
      const errors = validatePatch(patch);
      if (errors.length > 0) throw new Error(`--values: ${errors.join('; ')}`);
      initial = patch;
    } else throw new Error(`unknown argument ${arg} (usage: --listen HOST:PORT [--ollama-url URL] [--values JSON])`);
  }
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at), port: Number(listen.slice(at + 1)), ollamaUrl, initial };
}

async function main(): Promise<void> {
  const { host, port, ollamaUrl, initial } = parseArgs(process.argv.slice(2));
  const server = createStandInServer(new StandInState(initial), { ollamaUrl });
  server.listen(port, host, () => {
    const address = server.address() as { port: number };
    console.log(JSON.stringify({ msg: 'stand-in exporter listening', url: `http://${host}:${address.port}`, ollamaUrl: ollamaUrl ?? null }));
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(String(err instanceof Error ? err.message : err));
    process.exit(2);
  });
}
