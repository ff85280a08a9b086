/**
 * A known two-day history of the bundle's, the receiver's and the gateway's series (30 s samples), and
 * the figures it implies, computed here from the scenario's events and samples (not with PromQL).
 *
 * Time of day t(d, "hh:mm") is relative to the window's start S (midnight UTC). A state change at an
 * event time shows in the sample taken at that time.
 */
import type { HistorySeries } from '../../scripts/harness/backfill';

export const STEP = 30;
export const DAY = 86400;
const GIB = 2 ** 30;
const MIB = 2 ** 20;

type Interval = [number, number];

export interface Scenario {
  start: number;
  end: number;
  series: HistorySeries[];
  expected: {
    targets: Record<string, { stoppedSeconds: number; starts: number; stops: number; stopsFollowedByStart: number; memoryMean: number | null }>;
    actions: Record<string, number>;
    wakes: { byResult: Record<string, number>; measured: number; mean: number };
    branches: Record<string, number>;
    inputsMissing: Record<string, number>;
    models: Record<string, { requests: number; errors: number; mean: number; bucket: [number, number] }>;
    memoryP01: number;
    memoryMin: number;
    cpuTriggered: number;
    warmup: { arrivals: number; cold: number; warm: number };
    preloads: { loaded: number; failed: number };
  };
}

/** Deterministic pseudo-random numbers (LCG), so the history is the same on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const inAny = (t: number, intervals: Interval[]) => intervals.some(([a, b]) => t >= a && t < b);
const length = (intervals: Interval[]) => intervals.reduce((acc, [a, b]) => acc + (b - a), 0);

export function scenario(start: number): Scenario {
  const end = start + 2 * DAY;
  const at = (d: number, hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number);
    return start + d * DAY + h * 3600 + m * 60;
  };
  const times: number[] = [];
  for (let t = start; t <= end; t += STEP) times.push(t);
  const inWindow = (t: number) => t > start && t <= end;
  const series: HistorySeries[] = [];
  const gauge = (name: string, labels: Record<string, string>, value: (t: number, i: number) => number | null) => {
    const points: Array<[number, number]> = [];
    times.forEach((t, i) => {
      const v = value(t, i);
      if (v !== null) points.push([t, v]);
    });
    series.push({ name, labels, points });
    return points;
  };
  /** A counter that steps up by 1 at each event time (and to 0 at each reset time). */
  const counter = (name: string, labels: Record<string, string>, events: number[], resets: number[] = []) => {
    gauge(name, labels, (t) => {
      const since = Math.max(start - 1, ...resets.filter((r) => r <= t));
      return events.filter((e) => e <= t && e > since).length;
    });
  };

  // --- Targets: ollama's stopped intervals (three stops woken again within 10 minutes) and comfyui's.
  const ollamaStopped: Interval[] = [
    [at(0, '01:00'), at(0, '01:05')],
    [at(0, '02:00'), at(0, '02:06')],
    [at(0, '03:00'), at(0, '03:03')],
    [at(0, '04:00'), at(0, '09:01')],
    [at(0, '10:00'), at(1, '08:46')],
    [at(1, '10:00'), at(1, '15:01')],
    [at(1, '15:40'), at(1, '23:00')],
  ];
  const comfyRunning: Interval[] = [[at(0, '12:00'), at(0, '14:00')]];
  gauge('target:ai_dispatcher_target_running:max', { target: 'ollama' }, (t) => (inAny(t, ollamaStopped) ? 0 : 1));
  gauge('target:ai_dispatcher_target_running:max', { target: 'comfyui' }, (t) => (inAny(t, comfyRunning) ? 1 : 0));
  const memoryPoints = gauge('ai:ollama_container_memory_working_set_bytes:max', {}, (t, i) =>
    inAny(t, ollamaStopped) ? null : (4 + (i % 2)) * GIB,
  );
  const memoryInWindow = memoryPoints.filter(([t]) => inWindow(t)).map(([, v]) => v);

  // --- Receiver actions, with a receiver restart (counters back to 0) on day 1 at 00:00.
  const ollamaStarts = ollamaStopped.map(([, b]) => b);
  const ollamaStops = ollamaStopped.map(([a]) => a);
  const restart = [at(1, '00:00')];
  const job = { job: 'ai-dispatcher', instance: 'receiver:9095' };
  counter('ai_dispatcher_actions_total', { ...job, target: 'ollama', action: 'start', result: 'success' }, ollamaStarts, restart);
  counter('ai_dispatcher_actions_total', { ...job, target: 'ollama', action: 'stop', result: 'success' }, ollamaStops, restart);
  counter('ai_dispatcher_actions_total', { ...job, target: 'ollama', action: 'start', result: 'failed' }, [at(0, '09:00') + 30], restart);
  counter('ai_dispatcher_actions_total', { ...job, target: 'comfyui', action: 'start', result: 'success' }, [at(0, '12:00')], restart);
  counter('ai_dispatcher_actions_total', { ...job, target: 'comfyui', action: 'stop', result: 'success' }, [at(0, '14:00')], restart);

  // --- Gateway: wakes and the wait for them (histogram), requests by model.
  const gw = { job: 'ollama', instance: 'ollama-gateway:11434' };
  const wakeOk = [at(0, '01:05'), at(0, '02:06'), at(0, '03:03'), at(0, '09:01'), at(1, '11:00')];
  const wakeTimeout = [at(1, '12:00')];
  counter('ollama_gateway_wakes_total', { ...gw, result: 'ready' }, wakeOk);
  counter('ollama_gateway_wakes_total', { ...gw, result: 'timeout' }, wakeTimeout);
  const waits = [2, 4, 12, 25, 28, 70];
  const waitTimes = [...wakeOk, ...wakeTimeout];
  const LE = [1, 5, 10, 30, 60, Infinity];
  for (const le of LE) {
    const events = waitTimes.filter((_, i) => waits[i] <= le);
    counter('ollama_gateway_wake_duration_seconds_bucket', { ...gw, le: le === Infinity ? '+Inf' : String(le) }, events);
  }
  gauge('ollama_gateway_wake_duration_seconds_sum', gw, (t) => waitTimes.reduce((acc, e, i) => acc + (e <= t ? waits[i] : 0), 0));

  const rnd = random(17);
  const randomTimes = (n: number) => Array.from({ length: n }, () => start + STEP * (1 + Math.floor(rnd() * (times.length - 1))));
  const models = {
    'phi3:mini': { ok: 200, error: 2, aborted: 3, seconds: 0.8, bucket: [0.5, 1] as [number, number] },
    'qwen2.5:7b': { ok: 40, error: 10, aborted: 0, seconds: 7, bucket: [5, 10] as [number, number] },
  };
  const DURATION_LE = [0.5, 1, 2, 5, 10, 30, Infinity];
  for (const [model, m] of Object.entries(models)) {
    const ok = randomTimes(m.ok);
    const error = randomTimes(m.error);
    const aborted = randomTimes(m.aborted);
    counter('ollama_requests_total', { ...gw, model, endpoint: '/api/chat', outcome: 'success' }, ok);
    counter('ollama_requests_total', { ...gw, model, endpoint: '/api/chat', outcome: 'upstream_error' }, error);
    counter('ollama_requests_total', { ...gw, model, endpoint: '/api/chat', outcome: 'aborted' }, aborted);
    const all = [...ok, ...error, ...aborted];
    for (const le of DURATION_LE) {
      counter('ollama_request_duration_seconds_bucket', { ...gw, model, le: le === Infinity ? '+Inf' : String(le) }, m.seconds <= le ? all : []);
    }
    gauge('ollama_request_duration_seconds_sum', { ...gw, model }, (t) => all.filter((e) => e <= t).length * m.seconds);
  }

  // Preloads after each start of ollama (the gateway's preload block): one model each, one refused.
  counter('ollama_gateway_preloads_total', { ...gw, model: 'qwen2.5:7b', result: 'loaded' }, ollamaStarts.slice(1));
  counter('ollama_gateway_preloads_total', { ...gw, model: 'qwen2.5:7b', result: 'failed' }, ollamaStarts.slice(0, 1));
  counter('ollama_gateway_preloads_total', { ...gw, model: '', result: 'no_recommendation' }, []);

  // --- Recommendation branches and inputs.
  const conservation: Interval[] = [
    [at(0, '13:00'), at(0, '15:00')],
    [at(1, '13:00'), at(1, '14:00')],
  ];
  const unavailable: Interval[] = [[at(1, '20:00'), at(1, '20:30')]];
  const branch = (t: number) => (inAny(t, conservation) ? 'resource_conservation' : inAny(t, unavailable) ? 'metrics_unavailable' : 'optimal_performance');
  for (const priority of ['resource_conservation', 'metrics_unavailable', 'queue_management', 'optimal_performance']) {
    gauge('priority:ai_recommended_model:count', { priority }, (t) => (branch(t) === priority ? 6 : 0));
  }
  const pendingMissing: Interval[] = [[at(0, '05:00'), at(0, '08:00')]];
  gauge('ai:input_available', { input: 'node_memory' }, (t) => (inAny(t, unavailable) ? 0 : 1));
  gauge('ai:input_available', { input: 'n8n_pending_ai_work' }, (t) => (inAny(t, pendingMissing) ? 0 : 1));

  const memoryAvailable = gauge('ai:node_memory_MemAvailable_bytes:min', {}, (_t, i) => 6 * GIB + (i % 100) * 20 * MIB);
  gauge('ai:threshold:node_memory_available_bytes', {}, () => 2 * GIB);
  const busy: Interval[] = [[at(0, '13:00'), at(0, '13:10')]];
  const cpu = gauge('ai:node_cpu_utilisation:max_rate2m', {}, (t) => (inAny(t, busy) ? 0.9 : 0.3));
  gauge('ai:threshold:node_cpu_utilisation_ratio', {}, () => 0.85);
  gauge('ai:threshold:idle_period_seconds', {}, () => 1800);

  // --- The daily batch at 09:00 and the forecast (day 1 only: 08:45-09:20, and 15:00-15:15 for no work).
  const batches: Interval[] = [
    [at(0, '09:00'), at(0, '09:20')],
    [at(1, '09:00'), at(1, '09:20')],
  ];
  const forecast: Interval[] = [
    [at(1, '08:45'), at(1, '09:20')],
    [at(1, '15:00'), at(1, '15:15')],
  ];
  gauge('ai:n8n_pending_ai_work:sum', {}, (t) => (inAny(t, batches) ? 3 : 0));
  gauge('ai:n8n_pending_ai_work:expected_soon', {}, (t) => (inAny(t, forecast) ? 1 : 0));

  // --- What the report must say, from the events above.
  const stopsWokenSoon = (stopped: Interval[]) => stopped.filter(([a, b]) => b - a <= 600).length;
  const sortedMemory = memoryAvailable.filter(([t]) => inWindow(t)).map(([, v]) => v).sort((a, b) => a - b);
  const batchArrivals = batches.map(([a]) => a);
  const cold = batchArrivals.filter((a) => inAny(a - STEP, ollamaStopped)).length;
  const count = (events: number[]) => events.filter(inWindow).length;
  return {
    start,
    end,
    series,
    expected: {
      targets: {
        ollama: {
          stoppedSeconds: length(ollamaStopped),
          starts: ollamaStarts.length,
          stops: ollamaStops.length,
          stopsFollowedByStart: stopsWokenSoon(ollamaStopped),
          memoryMean: memoryInWindow.reduce((a, b) => a + b, 0) / memoryInWindow.length,
        },
        comfyui: { stoppedSeconds: 2 * DAY - length(comfyRunning), starts: 1, stops: 1, stopsFollowedByStart: 0, memoryMean: null },
      },
      actions: {
        'ollama/start/success': count(ollamaStarts),
        'ollama/stop/success': count(ollamaStops),
        'ollama/start/failed': 1,
        'comfyui/start/success': 1,
        'comfyui/stop/success': 1,
      },
      wakes: { byResult: { ready: wakeOk.length, timeout: wakeTimeout.length }, measured: waits.length, mean: waits.reduce((a, b) => a + b, 0) / waits.length },
      branches: {
        resource_conservation: length(conservation),
        metrics_unavailable: length(unavailable),
        optimal_performance: 2 * DAY - length(conservation) - length(unavailable),
      },
      inputsMissing: { node_memory: length(unavailable), n8n_pending_ai_work: length(pendingMissing) },
      models: Object.fromEntries(
        Object.entries(models).map(([model, m]) => [model, { requests: m.ok + m.error + m.aborted, errors: m.error, mean: m.seconds, bucket: m.bucket }]),
      ),
      memoryP01: sortedMemory[Math.ceil(0.01 * sortedMemory.length) - 1],
      memoryMin: sortedMemory[0],
      cpuTriggered: cpu.filter(([t, v]) => inWindow(t) && v > 0.85).length,
      warmup: { arrivals: batchArrivals.length, cold, warm: batchArrivals.length - cold },
      preloads: { loaded: ollamaStarts.length - 1, failed: 1 },
    },
  };
}
