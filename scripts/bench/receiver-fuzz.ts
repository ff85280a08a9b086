/**
 * Fuzz: hostile inputs (scripts/bench/hostile-inputs.ts) against the built receiver (dist/, `npm run build`)
 * as a child process with a real config on a private dockerd, whose one configured container is stopped.
 *
 *   npx tsx scripts/bench/receiver-fuzz.ts [--count 10000] [--seed 1] [--concurrency 32]
 *
 * Checked: every answer is 4xx (or none, for a client that abandoned its body), never 2xx or 5xx; the
 * receiver is alive and serves a valid notification afterwards; nothing was done (no actions counted, no
 * start or stop in Docker's events, the container still stopped); the token appears in no log line
 * (stdout and stderr of the child); the webhook counters add up to the answers.
 * test/receiver/fuzz/hostile-inputs.test.ts runs the same session with 500 inputs in the jest suite.
 *
 *   npx tsx scripts/bench/receiver-fuzz.ts --worst-case [--rounds 5] [--parallel 8]
 *
 * Worst case (issue 15): the bodies of worstCaseBodies(), built to cost the most within the default 1 MiB
 * limit, each sent `rounds` times alone, then `parallel` copies at once with a /healthz beside them. Reports the
 * slowest answer per body (alone and in parallel), /healthz's slowest answer, and the receiver's peak RSS
 * (VmRSS every 10 ms) against the goal: any body answered in < 100 ms with RSS < 150 MB. The floor row is the
 * same megabyte in one string: what receiving and parsing it costs with no validation work.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createStandInContainer, startDockerEngine, type DockerEngine } from '../harness/docker-engine';
import { containerEvents } from '../harness/docker-events';
import { alertBody, readMetric } from '../harness/live-receiver';
import { receiverConfigYaml, startReceiverProcess, type ReceiverProcess } from '../harness/receiver-process';
import { generateHostileInputs, sendAll, sendHostile, worstCaseBodies, type HostileAnswer } from './hostile-inputs';

export const FUZZ_TOKEN = 'fuzz-secret-token-3f9a1c77e2b54d08';
const BODY_LIMIT = 256 * 1024;

export interface FuzzReport {
  count: number;
  seconds: number;
  byStatus: Map<number, number>;
  byKind: Map<string, Map<number, number>>;
  /** Answers that are neither 4xx nor an abandoned body's missing answer. */
  wrong: HostileAnswer[];
  alive: boolean;
  /** Status of a valid notification sent after the fuzz (it must be acted on). */
  validAfter: number;
  actionsCounted: number;
  dockerEvents: Record<string, number>;
  stillStopped: boolean;
  tokenInOutput: boolean;
  logLines: number;
  webhookCounters: Record<string, number>;
  peakRssMb: number;
}

interface ReceiverOnEngine { engine: DockerEngine; rx: ReceiverProcess; containerId: string }

/**
 * A private dockerd with one stopped stand-in container (fuzz-ollama) and the built receiver as a child process
 * managing it as target `ollama`; `target(port)` is the rest of that target's config (readiness and timings) for
 * the stand-in's port. Both are stopped after `use`.
 */
async function withReceiverOnEngine<T>(
  setup: { target: (port: number) => string; extra?: string[] },
  use: (s: ReceiverOnEngine) => Promise<T>,
): Promise<T> {
  let engine: DockerEngine | undefined;
  let rx: ReceiverProcess | undefined;
  try {
    engine = await startDockerEngine();
    const { id, port } = await createStandInContainer(engine, { name: 'fuzz-ollama' });
    rx = await startReceiverProcess({
      token: FUZZ_TOKEN,
      config: receiverConfigYaml({
        socketPath: engine.socketPath,
        targets: `ollama: {members: [{container: fuzz-ollama}], ${setup.target(port)}}`,
        refreshIntervalSeconds: 5,
        extra: setup.extra,
      }),
    });
    return await use({ engine, rx, containerId: id });
  } finally {
    await rx?.stop();
    await engine?.stop();
  }
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return 0; // exited: reported by the caller
  }
}

export async function runFuzzSession(options: { count: number; seed: number; concurrency: number }): Promise<FuzzReport> {
  const setup = {
    target: (port: number) => `readiness: {type: http, url: "http://127.0.0.1:${port}/api/tags", timeout_seconds: 10, interval_seconds: 0.1}, min_running_seconds: 0, cooldown_seconds: 0`,
    extra: [`webhook: {body_limit_bytes: ${BODY_LIMIT}}`],
  };
  return withReceiverOnEngine(setup, async ({ engine, rx, containerId: id }) => {
    const since = Date.now();
    const validBody = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint: 'fuzz-valid' });
    const inputs = generateHostileInputs(options.count, options.seed, { token: FUZZ_TOKEN, validBody, bodyLimitBytes: BODY_LIMIT });
    const { port: rxPort } = new URL(rx.url);

    let peakRssMb = 0;
    const pid = rx.pid;
    const watch = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(pid))), 200);
    const began = performance.now();
    const answers = await sendAll('127.0.0.1', Number(rxPort), inputs, options.concurrency);
    const seconds = (performance.now() - began) / 1000;
    clearInterval(watch);

    const byStatus = new Map<number, number>();
    const byKind = new Map<string, Map<number, number>>();
    for (const a of answers) {
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      const kind = a.input.kind.replace(/: .*/, '');
      const m = byKind.get(kind) ?? new Map<number, number>();
      m.set(a.status, (m.get(a.status) ?? 0) + 1);
      byKind.set(kind, m);
    }
    const wrong = answers.filter((a) => !(a.status >= 400 && a.status < 500) && !(a.status === 0 && a.input.slow?.abandon));

    const alive = rx.child.exitCode === null && rx.child.signalCode === null;
    const metrics = alive ? ((await rx.request('GET', '/metrics')).body as string) : '';
    const webhookCounters: Record<string, number> = {};
    for (const outcome of ['accepted', 'invalid', 'unauthorized', 'too_large', 'unsupported_media_type', 'unavailable', 'error']) {
      const n = readMetric(metrics, 'ai_dispatcher_webhook_requests_total', { outcome });
      if (n !== undefined) webhookCounters[outcome] = n;
    }
    const actionsCounted = [...metrics.matchAll(/^ai_dispatcher_actions_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const dockerEvents = await containerEvents(engine, id, ['start', 'die', 'kill'], since);
    const stillStopped = !(await engine.docker.getContainer(id).inspect()).State.Running;

    // The receiver still does its job: a valid notification after the storm is accepted.
    const validAfter = alive ? (await rx.webhook(validBody)).status : 0;
    return {
      count: options.count,
      seconds,
      byStatus,
      byKind,
      wrong,
      alive,
      validAfter,
      actionsCounted,
      dockerEvents,
      stillStopped,
      tokenInOutput: rx.output().includes(FUZZ_TOKEN),
      logLines: rx.logLines().length,
      webhookCounters,
      peakRssMb,
    };
  });
}

export interface WorstCaseRow { kind: string; bytes: number; statuses: number[]; aloneMs: number[]; aloneMaxMs: number; parallelMaxMs: number }
export interface WorstCaseReport { rows: WorstCaseRow[]; healthzMaxMs: number; peakRssMb: number; baselineRssMb: number; alive: boolean }

export async function runWorstCase(options: { rounds: number; parallel: number }): Promise<WorstCaseReport> {
  // The default body limit (1 MiB): what users run.
  const setup = { target: (port: number) => `readiness: {type: http, url: "http://127.0.0.1:${port}/api/tags"}` };
  return withReceiverOnEngine(setup, async ({ rx }) => {
    const limit = 1024 * 1024;
    const validBody = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint: 'worst' });
    const bodies = worstCaseBodies({ token: FUZZ_TOKEN, validBody, bodyLimitBytes: limit });
    const rxPort = Number(new URL(rx.url).port);
    const pid = rx.pid;
    const baselineRssMb = rssMb(pid);
    let peakRssMb = baselineRssMb;
    const watch = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(pid))), 10);
    const rows: WorstCaseRow[] = [];
    for (const body of bodies) {
      if (body.body.length > limit) throw new Error(`${body.kind}: ${body.body.length} bytes, over the limit`);
      const row: WorstCaseRow = { kind: body.kind, bytes: body.body.length, statuses: [], aloneMs: [], aloneMaxMs: 0, parallelMaxMs: 0 };
      for (let i = 0; i < options.rounds; i++) {
        const a = await sendHostile('127.0.0.1', rxPort, body);
        row.statuses.push(a.status);
        row.aloneMs.push(a.ms);
        row.aloneMaxMs = Math.max(row.aloneMaxMs, a.ms);
      }
      rows.push(row);
    }
    let healthzMaxMs = 0;
    for (const row of rows) {
      const body = bodies.find((b) => b.kind === row.kind)!;
      const healthz = (async () => {
        const began = performance.now();
        await fetch(`${rx.url}/healthz`);
        healthzMaxMs = Math.max(healthzMaxMs, performance.now() - began);
      })();
      const answers = await Promise.all(Array.from({ length: options.parallel }, () => sendHostile('127.0.0.1', rxPort, body)));
      await healthz;
      for (const a of answers) {
        row.statuses.push(a.status);
        row.parallelMaxMs = Math.max(row.parallelMaxMs, a.ms);
      }
    }
    clearInterval(watch);
    const alive = rx.child.exitCode === null && rx.child.signalCode === null && (await fetch(`${rx.url}/healthz`)).status === 200;
    return { rows, healthzMaxMs, peakRssMb, baselineRssMb, alive };
  });
}

async function worstCaseMain(rounds: number, parallel: number): Promise<void> {
  const r = await runWorstCase({ rounds, parallel });
  process.stdout.write(`Worst-case bodies within the default 1 MiB limit (${rounds} alone each, then ${parallel} at once)\n\n`);
  process.stdout.write('| body | bytes | answers | median alone (ms) | slowest alone (ms) | slowest of the parallel ones (ms) |\n|---|---:|---|---:|---:|---:|\n');
  for (const row of r.rows) {
    const statuses = [...new Set(row.statuses)].sort().join(', ');
    const median = [...row.aloneMs].sort((a, b) => a - b)[Math.floor(row.aloneMs.length / 2)]!;
    process.stdout.write(`| ${row.kind} | ${row.bytes} | ${statuses} | ${median.toFixed(1)} | ${row.aloneMaxMs.toFixed(1)} | ${row.parallelMaxMs.toFixed(1)} |\n`);
  }
  const worst = r.rows.filter((row) => !row.kind.startsWith('floor')).reduce((a, b) => (b.aloneMaxMs > a.aloneMaxMs ? b : a));
  process.stdout.write(`\nslowest answer to one body: ${worst.aloneMaxMs.toFixed(1)} ms (${worst.kind}); floor ${r.rows[0]!.aloneMaxMs.toFixed(1)} ms\n`);
  process.stdout.write(`/healthz beside ${parallel} parallel bodies: slowest ${r.healthzMaxMs.toFixed(1)} ms\n`);
  process.stdout.write(`receiver RSS: ${r.baselineRssMb.toFixed(1)} MB at rest, peak ${r.peakRssMb.toFixed(1)} MB\n`);
  const checks: Array<[string, boolean]> = [
    ['every body answered 4xx or 200 (nothing to do), never 5xx or no answer', r.rows.every((row) => row.statuses.every((s) => (s >= 400 && s < 500) || s === 200))],
    [`goal: any body answered in < 100 ms (${worst.aloneMaxMs.toFixed(1)} ms)`, worst.aloneMaxMs < 100],
    [`goal: RSS < 150 MB (${r.peakRssMb.toFixed(1)} MB)`, r.peakRssMb < 150],
    ['receiver alive', r.alive],
  ];
  for (const [what, ok] of checks) process.stdout.write(`${ok ? 'held ' : 'FAILED'}  ${what}\n`);
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
}

function formatCounts(m: Map<number, number>): string {
  return [...m].sort((a, b) => a[0] - b[0]).map(([status, n]) => `${status === 0 ? 'no answer' : status}: ${n}`).join(', ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, concurrency: { type: 'string', default: '32' },
      'worst-case': { type: 'boolean', default: false }, rounds: { type: 'string', default: '5' }, parallel: { type: 'string', default: '8' },
    },
  });
  if (values['worst-case']) {
    await worstCaseMain(Number(values.rounds), Number(values.parallel));
    return;
  }
  const r = await runFuzzSession({ count: Number(values.count), seed: Number(values.seed), concurrency: Number(values.concurrency) });
  process.stdout.write(`${r.count} hostile inputs (seed ${values.seed}, ${values.concurrency} in flight) in ${r.seconds.toFixed(1)} s; receiver peak RSS ${r.peakRssMb.toFixed(1)} MB\n\n`);
  process.stdout.write('| kind | answers |\n|---|---|\n');
  for (const [kind, m] of [...r.byKind].sort()) process.stdout.write(`| ${kind} | ${formatCounts(m)} |\n`);
  process.stdout.write(`\nall answers: ${formatCounts(r.byStatus)}\n`);
  process.stdout.write(`receiver counters: ${JSON.stringify(r.webhookCounters)}; actions counted: ${r.actionsCounted}; Docker events: ${JSON.stringify(r.dockerEvents)}; log lines: ${r.logLines}\n`);
  const checks: Array<[string, boolean]> = [
    ['only 4xx (or no answer to an abandoned body)', r.wrong.length === 0],
    ['receiver alive', r.alive],
    ['no action: none counted, no start/stop in Docker, container still stopped', r.actionsCounted === 0 && r.dockerEvents.start === 0 && r.dockerEvents.die === 0 && r.stillStopped],
    ['no secret in any log line', !r.tokenInOutput],
    [`a valid notification afterwards is accepted (${r.validAfter})`, r.validAfter === 202],
  ];
  for (const [what, ok] of checks) process.stdout.write(`${ok ? 'held ' : 'FAILED'}  ${what}\n`);
  for (const w of r.wrong.slice(0, 10)) process.stdout.write(`  wrong: ${w.input.kind} -> ${w.status} ${w.error ?? ''}\n`);
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
}

if (require.main === module) {
  void main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
