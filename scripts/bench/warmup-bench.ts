/**
 * Warm-up benchmark (issue 17, "Measured"): a compressed week of daily batches on the stack's own code, with the
 * Ollama stand-in's model load set to a realistic time, with and without the warm-up (AIWorkExpectedSoon) and
 * the gateway's model preload. Per variant, a fresh stack (scripts/stack/up.ts: private dockerd, the stand-in as
 * the container the receiver manages, real Prometheus, Alertmanager, receiver, gateway) lives through --days
 * compressed days of --day-seconds; every day at the same time a batch arrives: pending n8n work appears and a
 * client sends requests through the gateway for the model the rules recommend for the pair, as n8n's workflow
 * does. Between batches the idle stop stops Ollama. Measured per batch:
 *   - did it wait for a container start (the container was not running when the batch came)?
 *   - did it wait for a model load (the first request's load_duration is over half the load time)?
 *   - the first request's time to first chunk, beside the batch's later requests (the floor: model loaded).
 * Per variant: the time Ollama ran ahead of a batch because of a warm-up (started after the previous batch's
 * stop) and the time it was stopped, both as hours of a real day (x 86400 / day-seconds) and as GiB-hours at the
 * model's loaded size (what a running Ollama with the model loaded holds; for a warm-up without preload this
 * is an upper bound: the model is loaded only by the batch).
 * Goal: from day 2 on (the first day has no history), no batch waits for a container start or a model load.
 *
 *   npx tsx scripts/bench/warmup-bench.ts [--days 8] [--day-seconds 90] [--load-ms 8000]
 *       [--variants reactive,warmup,warmup+preload] [--horizon-seconds 30] [--idle-seconds 10]
 *       [--batch-at SECONDS] [--batch-seconds 8] [--pair high/analysis]
 *
 * The warm-up rules look back whole days (offset 23h..167h); the stack gets copies with the day, the
 * look-ahead and the horizon scaled (scripts/stack/short-periods.ts, warmupDay). The horizon stays in real
 * seconds: a container start and a model load are not compressed. Variants run one after the other.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { withBenchStack } from '../harness/bench-stack';
import { ruleFilesIn } from '../stack/config';
import { dockerClient } from '../stack/docker';
import type { ShortPeriods } from '../stack/short-periods';

const VARIANTS = ['reactive', 'warmup', 'preload', 'warmup+preload'] as const;
type Variant = (typeof VARIANTS)[number];
const CONTAINER = 'ollama-warmup-bench';
const WARMUP_RULES = 'ai-dispatcher-warmup.rules.yml';
const CLIENT_QUERY = 'topk by (complexity, task_type) (1, timestamp(ai:recommended_model_options))';

interface Options {
  days: number;
  daySeconds: number;
  loadMs: number;
  variants: Variant[];
  horizonSeconds: number;
  idleSeconds: number;
  batchAt: number;
  batchSeconds: number;
  pair: { complexity: string; task_type: string };
}

export function parseOptions(argv: string[]): Options {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string, def: number) => {
    const v = get(flag);
    const n = v === undefined ? def : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: a number >= 0`);
    return n;
  };
  const daySeconds = num('--day-seconds', 90);
  const variants = (get('--variants') ?? 'reactive,warmup,warmup+preload').split(',') as Variant[];
  for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`--variants: ${v} is not one of ${VARIANTS.join(', ')}`);
  const [complexity, taskType] = (get('--pair') ?? 'high/analysis').split('/');
  const o: Options = {
    days: num('--days', 8), daySeconds, loadMs: num('--load-ms', 8000), variants,
    horizonSeconds: num('--horizon-seconds', 30), idleSeconds: num('--idle-seconds', 10),
    batchAt: num('--batch-at', Math.round(daySeconds * 0.6)), batchSeconds: num('--batch-seconds', 8),
    pair: { complexity, task_type: taskType },
  };
  // After a batch: request window 3 s + idle period + for/group_wait/scrape ~5 s until the stop; the next
  // day's warm-up starts horizon seconds before its batch.
  const needed = o.batchSeconds + 3 + o.idleSeconds + 5 + o.horizonSeconds + 5;
  if (o.daySeconds < needed) throw new Error(`--day-seconds ${o.daySeconds}: a day needs at least ${needed} s (batch, idle stop, a stopped gap, horizon)`);
  if (o.batchAt < o.horizonSeconds + 5 || o.batchAt + o.batchSeconds > o.daySeconds) throw new Error('--batch-at: the batch must fit in the day, horizon seconds after its start');
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Answer { status: number; firstChunkMs: number; totalMs: number; loadMs: number }

/** One streamed generate through the gateway: time to first chunk, and load_duration from the last line. */
async function streamed(gateway: string, model: string, prompt: string): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${gateway}/api/generate`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, prompt, stream: true }), signal: AbortSignal.timeout(120_000),
  });
  let firstChunkMs = NaN;
  let text = '';
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(firstChunkMs)) firstChunkMs = performance.now() - t0;
    text += Buffer.from(value).toString();
  }
  const last = text.trim().split('\n').at(-1) ?? '{}';
  let loadNs = 0;
  try {
    loadNs = Number((JSON.parse(last) as { load_duration?: number }).load_duration ?? 0);
  } catch { /* an error answer: no load_duration */ }
  return { status: res.status, firstChunkMs, totalMs: performance.now() - t0, loadMs: loadNs / 1e6 };
}

async function recommendedModel(prometheus: string, pair: Options['pair']): Promise<string> {
  const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: CLIENT_QUERY })}`);
  const rows = ((await res.json()) as { data: { result: Array<{ metric: Record<string, string> }> } }).data.result;
  const row = rows.find((r) => r.metric.complexity === pair.complexity && r.metric.task_type === pair.task_type);
  if (!row) throw new Error(`no recommendation for ${pair.complexity}/${pair.task_type} (pairs: ${rows.map((r) => `${r.metric.complexity}/${r.metric.task_type}`).join(', ')})`);
  return row.metric.model;
}

interface Batch {
  day: number;
  at: number;
  /** When the batch's last request was answered and its pending work went away. */
  endedAt: number;
  running: boolean;
  modelLoaded: boolean;
  first: Answer;
  later: number[];
}

/** Container start/die times (ms since epoch) from Docker's event stream. */
async function watchContainer(docker: Docker): Promise<{ events: Array<{ at: number; running: boolean }>; stop(): void }> {
  const events: Array<{ at: number; running: boolean }> = [];
  const stream = (await docker.getEvents({ filters: { type: ['container'], container: [CONTAINER], event: ['start', 'die'] } })) as NodeJS.ReadableStream & { destroy?: () => void };
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const e = JSON.parse(line) as { status?: string; Action?: string; timeNano: number };
      events.push({ at: e.timeNano / 1e6, running: (e.Action ?? e.status) === 'start' });
    }
  });
  return { events, stop: () => stream.destroy?.() };
}

interface VariantResult {
  variant: Variant;
  model: string;
  modelGiB: number;
  batches: Batch[];
  /** Days 2..N: Ollama running ahead of a batch after a warm-up start, stopped, and the whole span. */
  warmupSeconds: number;
  stoppedSeconds: number;
  spanSeconds: number;
}

async function runVariant(o: Options, variant: Variant): Promise<VariantResult> {
  const warmup = variant.startsWith('warmup');
  const preload = variant.endsWith('preload');
  const periods: ShortPeriods = {
    lifecycleForSeconds: 1, idlePeriodSeconds: o.idleSeconds, requestWindowSeconds: 3,
    ...(warmup && { warmupDay: { daySeconds: o.daySeconds, lookaheadSeconds: Math.min(2 * o.horizonSeconds, o.daySeconds - 1), horizonSeconds: o.horizonSeconds, evaluationSeconds: 1 } }),
  };
  const stackOptions = (dir: string) => {
    // Without the warm-up: the bundle's rule files but the forecast's (the alerts then never see work expected).
    const rulesDir = path.join(dir, 'rules-src');
    fs.mkdirSync(rulesDir);
    for (const f of ruleFilesIn()) if (warmup || path.basename(f) !== WARMUP_RULES) fs.copyFileSync(f, path.join(rulesDir, path.basename(f)));
    return {
      container: CONTAINER, rulesDir, shortPeriods: periods, standInArgs: ['--load-ms', String(o.loadMs)],
      preloadPairs: preload ? [o.pair] : undefined,
    };
  };
  return withBenchStack('warmup-bench-', stackOptions, async (stack) => {
    const docker = dockerClient(stack.dockerHost!);
    const container = docker.getContainer(CONTAINER);
    const watch = await watchContainer(docker);
    const set = (values: Record<string, number>) => fetch(`${stack.urls.standInExporter}/values`, { method: 'POST', body: JSON.stringify(values) });
    const model = await recommendedModel(stack.urls.prometheus, o.pair);
    console.log(`[${variant}] stack up; ${o.pair.complexity}/${o.pair.task_type} -> ${model}; ${o.days} days of ${o.daySeconds} s, batch at ${o.batchAt} s for ${o.batchSeconds} s`);
    await set({ n8n_queue_jobs_waiting: 0 });
    const t0 = Date.now();
    const batches: Batch[] = [];
    let modelBytes = 0;
    for (let day = 0; day < o.days; day++) {
      const at = t0 + (day * o.daySeconds + o.batchAt) * 1000;
      await sleep(Math.max(0, at - Date.now()));
      const running = (await container.inspect()).State.Running === true;
      let modelLoaded = false;
      if (running) {
        const ps = (await (await fetch(`${stack.urls.ollama}/api/ps`)).json()) as { models: Array<{ name: string; size: number }> };
        const m = ps.models.find((x) => x.name === model);
        modelLoaded = m !== undefined;
      }
      await set({ n8n_queue_jobs_waiting: 2 });
      const first = await streamed(stack.urls.gateway, model, `batch ${day + 1}: first`);
      const later: number[] = [];
      // The batch's later requests (at least two: the floor, with the model loaded), until the batch's end.
      while (later.length < 2 || Date.now() < at + o.batchSeconds * 1000) {
        later.push((await streamed(stack.urls.gateway, model, `batch ${day + 1}: more`)).firstChunkMs);
        await sleep(300);
      }
      await set({ n8n_queue_jobs_waiting: 0 });
      const endedAt = Date.now();
      const ps = (await (await fetch(`${stack.urls.ollama}/api/ps`)).json().catch(() => ({ models: [] }))) as { models: Array<{ name: string; size: number }> };
      modelBytes = Math.max(modelBytes, ps.models.find((x) => x.name === model)?.size ?? 0);
      batches.push({ day: day + 1, at, endedAt, running, modelLoaded, first, later });
      console.log(`[${variant}] day ${day + 1}: container ${running ? 'running' : 'STOPPED'}, model ${modelLoaded ? 'loaded' : 'NOT loaded'}; first request HTTP ${first.status}, first chunk ${(first.firstChunkMs / 1000).toFixed(2)} s (load_duration ${(first.loadMs / 1000).toFixed(2)} s); later requests' first chunk median ${(median(later) / 1000).toFixed(3)} s`);
    }
    const end = t0 + o.days * o.daySeconds * 1000;
    await sleep(Math.max(0, end - Date.now()));
    watch.stop();
    // The regular pattern: from day 2 on (day 1 has no history to warm up from).
    const regularFrom = t0 + o.daySeconds * 1000;
    const { warmupSeconds, stoppedSeconds } = account(watch.events, batches, regularFrom, end);
    return { variant, model, modelGiB: modelBytes / 2 ** 30, batches, warmupSeconds, stoppedSeconds, spanSeconds: (end - regularFrom) / 1000 };
  });
}

/**
 * From the container's start/die events: seconds stopped in [t0, end], and seconds Ollama ran ahead of a batch
 * after a start that came after the previous batch had ended (a warm-up; a container still running from the
 * previous batch is not one).
 */
export function account(events: Array<{ at: number; running: boolean }>, batches: Array<{ at: number; endedAt: number }>, t0: number, end: number): { warmupSeconds: number; stoppedSeconds: number } {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const runningAt = (t: number) => {
    let state = false;
    for (const e of sorted) if (e.at <= t) state = e.running;
    return state;
  };
  let stopped = 0;
  let state = runningAt(t0);
  let from = t0;
  for (const e of sorted.filter((x) => x.at > t0 && x.at < end)) {
    if (!state && e.running) stopped += e.at - from;
    if (state !== e.running) from = e.at;
    state = e.running;
  }
  if (!state) stopped += end - from;
  let warmup = 0;
  batches.forEach((b, i) => {
    const previousEnd = i === 0 ? t0 : batches[i - 1].endedAt;
    const start = sorted.filter((e) => e.running && e.at > previousEnd && e.at < b.at).at(-1);
    if (start && runningAt(b.at)) warmup += b.at - start.at;
  });
  return { warmupSeconds: warmup / 1000, stoppedSeconds: stopped / 1000 };
}

/**
 * The running parts of a day are real seconds (start, model load, batch, idle period, warm-up lead: none is
 * compressed); only the stopped gap between them is. So a real week is projected from the running time per day
 * as measured, with the rest of each real day stopped.
 */
function summary(o: Options, r: VariantResult): string[] {
  const regular = r.batches.filter((b) => b.day >= 2);
  const days = regular.length;
  const waitedStart = regular.filter((b) => !b.running).length;
  const waitedLoad = regular.filter((b) => b.first.loadMs > o.loadMs / 2).length;
  const first = regular.map((b) => b.first.firstChunkMs / 1000);
  const floor = regular.flatMap((b) => b.later).map((ms) => ms / 1000);
  const goal = waitedStart === 0 && waitedLoad === 0 ? 'goal met' : 'goal NOT met';
  const runningPerDay = (r.spanSeconds - r.stoppedSeconds) / Math.max(1, days);
  const warmupPerDay = r.warmupSeconds / Math.max(1, days);
  const gibHoursWeek = (secondsPerDay: number) => ((7 * secondsPerDay) / 3600) * r.modelGiB;
  return [
    `${r.variant}: model ${r.model} (${r.modelGiB.toFixed(2)} GiB loaded)`,
    `  day 1 (no history): container ${r.batches[0]?.running ? 'running' : 'stopped'}, first chunk ${((r.batches[0]?.first.firstChunkMs ?? NaN) / 1000).toFixed(2)} s`,
    `  days 2..${o.days} (${days} batches of the regular pattern): waited for a container start ${waitedStart}, for a model load ${waitedLoad} (${goal})`,
    `  first request's first chunk: median ${median(first).toFixed(2)} s, max ${Math.max(...first).toFixed(2)} s; floor (the batches' later requests, model loaded) median ${median(floor).toFixed(3)} s`,
    `  per day: Ollama ran ${runningPerDay.toFixed(1)} s (of which ahead of the batch after a warm-up start: ${warmupPerDay.toFixed(1)} s), stopped ${((r.stoppedSeconds / r.spanSeconds) * 100).toFixed(0)} % of the compressed day`,
    `  a real week of 7 such days at ${r.modelGiB.toFixed(2)} GiB: warm-ups spend ${gibHoursWeek(warmupPerDay).toFixed(2)} GiB-h; stopped the rest of each day saves ${gibHoursWeek(86400 - runningPerDay).toFixed(1)} GiB-h against an always-on Ollama with the model loaded`
      + (warmupPerDay > 0 ? `; at the bundle's 900 s horizon instead of ${o.horizonSeconds} s, warm-ups would spend about ${gibHoursWeek(900 - Math.max(0, o.horizonSeconds - warmupPerDay)).toFixed(2)} GiB-h` : '')
      + (warmupPerDay > 0 && !r.variant.endsWith('preload') ? ' (an upper bound: without preload the model is loaded only by the batch)' : ''),
  ];
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  console.log(`warm-up bench: ${o.variants.join(', ')}; ${o.days} days of ${o.daySeconds} s (1 s = ${(86400 / o.daySeconds / 60).toFixed(0)} min of a real day), model load ${o.loadMs} ms, horizon ${o.horizonSeconds} s, idle period ${o.idleSeconds} s`);
  const results: VariantResult[] = [];
  for (const v of o.variants) results.push(await runVariant(o, v));
  console.log('');
  for (const r of results) for (const line of summary(o, r)) console.log(line);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
