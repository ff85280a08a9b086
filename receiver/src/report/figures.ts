import { duration } from './format';
import type { RangeSeries } from './prometheus-client';
import { QUERIES, type QueryName, type QueryResults } from './queries';
import { counterIncrease, gridTimes, histogramQuantile, onGrid, secondsWhere, type Window } from './timeline';

/** The lifecycle target the warm-up and the memory series concern (the alerts' ai_dispatcher_target). */
export const WARMUP_TARGET = 'ollama';
/** A stop followed by a start within this many seconds counts as "woken soon after". */
export const RESTART_WITHIN_SECONDS = 600;
const GIB = 2 ** 30;

export interface TargetFigures {
  target: string;
  observedSeconds: number;
  stoppedSeconds: number;
  stoppedRatio: number;
  /** Mean working set while running (the ollama target only), bytes. */
  memoryBytesWhileRunning: number | null;
  savedGiBHours: number | null;
  starts: number;
  stops: number;
  /** Stops followed by a start within RESTART_WITHIN_SECONDS. */
  stopsFollowedByStart: number;
}

export interface ActionFigures {
  target: string;
  action: string;
  result: string;
  count: number;
}

/** Wakes of a stopped Ollama by the gateway; a request that arrived while it was stopped waited for one. */
export interface WakeFigures {
  total: number;
  byResult: Record<string, number>;
  /** Wakes with a measured duration (the histogram's count). */
  measured: number;
  meanSeconds: number | null;
  p95Seconds: number | null;
}

export interface ModelFigures {
  model: string;
  requests: number;
  errors: number;
  errorRatio: number | null;
  meanSeconds: number | null;
  p95Seconds: number | null;
}

export interface ThresholdFigures {
  samples: number;
  /** Samples on the triggering side of the threshold (memory below it, CPU above it). */
  triggered: number;
  threshold: number | null;
  /** Memory: the 1st percentile (the value it stayed above 99 % of the time); CPU: the 99th. */
  percentile: number | null;
  min: number | null;
  max: number | null;
}

export interface WarmupFigures {
  /** Times pending AI work appeared (0 -> > 0). */
  arrivals: number;
  /** Arrivals that found the target running. */
  warm: number;
  /** Warm arrivals whose start happened while the forecast said work was expected and none was pending. */
  warmedByForecast: number;
  /** Arrivals that found the target stopped: they waited for a start. */
  cold: number;
  /** Starts made on the forecast that no work followed before the next stop. */
  forecastStartsWithoutWork: number;
  /** Target running time after a forecast start and before work arrived (or it stopped), GiB-hours. */
  warmupGiBHours: number | null;
  warmupSeconds: number;
}

/** The gateway's model loads after Ollama came up: per model and result (no_recommendation has no model). */
export interface PreloadFigures {
  byResult: Record<string, number>;
  byModel: Array<{ model: string; result: string; count: number }>;
}

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
}

export interface Chart {
  id: string;
  title: string;
  unit: string;
  x: number[];
  series: ChartSeries[];
}

export interface ReportFigures {
  window: Window;
  targets: TargetFigures[];
  actions: ActionFigures[];
  wakes: WakeFigures | null;
  branches: Array<{ priority: string; seconds: number; share: number }>;
  inputs: Array<{ input: string; observedSeconds: number; missingSeconds: number; missingRatio: number }>;
  models: ModelFigures[];
  memory: ThresholdFigures | null;
  cpu: ThresholdFigures | null;
  idlePeriodSeconds: number | null;
  warmup: WarmupFigures | null;
  preloads: PreloadFigures | null;
  /** Series that returned nothing over the window, and what to load or scrape for them. */
  missing: Array<{ series: string; source: string }>;
  charts: Chart[];
}

const round = (x: number, digits = 6) => Number(x.toFixed(digits));
const lastValue = (series: RangeSeries[]): number | null => {
  const points = series.flatMap((s) => s.points);
  return points.length === 0 ? null : points.reduce((a, b) => (b[0] >= a[0] ? b : a))[1];
};

/** Values on the grid with the first point (the baseline) dropped. */
const inWindow = (values: Array<number | null>) => values.slice(1);

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function groupBy(series: RangeSeries[], key: (labels: Record<string, string>) => string): Map<string, RangeSeries[]> {
  const groups = new Map<string, RangeSeries[]>();
  for (const s of series) {
    const k = key(s.labels);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return groups;
}

const sumIncrease = (series: RangeSeries[]) => series.reduce((acc, s) => acc + counterIncrease(s.points), 0);

/** Transitions on the grid: indexes i where values[i-1] and values[i] differ in running state. */
function transitions(values: Array<number | null>): { starts: number[]; stops: number[] } {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 1; i < values.length; i++) {
    const before = values[i - 1];
    const now = values[i];
    if (before === null || now === null) continue;
    if (before === 0 && now > 0) starts.push(i);
    if (before > 0 && now === 0) stops.push(i);
  }
  return { starts, stops };
}

function targetFigures(results: QueryResults, w: Window): TargetFigures[] {
  // Only where the target runs: a stopped container's last sample stays visible for the 5 min lookback.
  const running = results.running.find((s) => s.labels.target === WARMUP_TARGET);
  const runningValues = running ? inWindow(onGrid(running, w)) : [];
  const memoryValues =
    results.memory.length > 0
      ? inWindow(onGrid(results.memory[0], w)).filter((v, i): v is number => v !== null && (runningValues[i] ?? 0) > 0)
      : [];
  const memoryMean = memoryValues.length > 0 ? memoryValues.reduce((a, b) => a + b, 0) / memoryValues.length : null;
  return results.running
    .map((series) => {
      const values = onGrid(series, w);
      const observedSeconds = secondsWhere(values, w, () => true);
      const stoppedSeconds = secondsWhere(values, w, (v) => v === 0);
      const { starts, stops } = transitions(values);
      const window = RESTART_WITHIN_SECONDS / w.step;
      const stopsFollowedByStart = stops.filter((i) => starts.some((j) => j > i && j - i <= window)).length;
      const target = series.labels.target ?? '';
      const memory = target === WARMUP_TARGET ? memoryMean : null;
      return {
        target,
        observedSeconds,
        stoppedSeconds,
        stoppedRatio: observedSeconds > 0 ? round(stoppedSeconds / observedSeconds) : 0,
        memoryBytesWhileRunning: memory === null ? null : round(memory, 0),
        savedGiBHours: memory === null ? null : round((stoppedSeconds / 3600) * (memory / GIB), 3),
        starts: starts.length,
        stops: stops.length,
        stopsFollowedByStart,
      };
    })
    .sort((a, b) => a.target.localeCompare(b.target));
}

function actionFigures(results: QueryResults): ActionFigures[] {
  const groups = groupBy(results.actions, (l) => JSON.stringify([l.target ?? '', l.action ?? '', l.result ?? '']));
  return [...groups.entries()]
    .map(([key, series]) => {
      const [target, action, result] = JSON.parse(key) as string[];
      return { target, action, result, count: round(sumIncrease(series), 3) };
    })
    .filter((a) => a.count > 0)
    .sort((a, b) => `${a.target}/${a.action}/${a.result}`.localeCompare(`${b.target}/${b.action}/${b.result}`));
}

/** Bucket increases summed over instances, per value of `by` (the histogram's other labels summed). */
function histogram(buckets: RangeSeries[], by: string): Map<string, Array<{ le: number; count: number }>> {
  const out = new Map<string, Map<number, number>>();
  for (const s of buckets) {
    const key = s.labels[by] ?? '';
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (Number.isNaN(le)) continue;
    const perLe = out.get(key) ?? new Map<number, number>();
    perLe.set(le, (perLe.get(le) ?? 0) + counterIncrease(s.points));
    out.set(key, perLe);
  }
  return new Map([...out.entries()].map(([k, m]) => [k, [...m.entries()].map(([le, count]) => ({ le, count }))]));
}

function wakeFigures(results: QueryResults): WakeFigures | null {
  if (results.wakes.length === 0 && results.wakeDurationBuckets.length === 0) return null;
  const byResult: Record<string, number> = {};
  for (const [result, series] of groupBy(results.wakes, (l) => l.result ?? '')) byResult[result] = round(sumIncrease(series), 3);
  const buckets = histogram(results.wakeDurationBuckets, '__none__').get('') ?? [];
  const measured = buckets.find((b) => b.le === Infinity)?.count ?? 0;
  const sum = sumIncrease(results.wakeDurationSum);
  return {
    total: round(Object.values(byResult).reduce((a, b) => a + b, 0), 3),
    byResult,
    measured: round(measured, 3),
    meanSeconds: measured > 0 ? round(sum / measured, 3) : null,
    p95Seconds: measured > 0 ? round(histogramQuantile(0.95, buckets) ?? NaN, 3) : null,
  };
}

/**
 * Outcomes of ollama_requests_total that are not errors: the answer was delivered, or the client went
 * away (aborted). Everything else the gateway reports (client_error, upstream_error, rejected_queue_full,
 * queue_timeout, unavailable) counts as an error.
 */
const OK_OUTCOMES = new Set(['success', 'aborted']);

function modelFigures(results: QueryResults): ModelFigures[] {
  const requests = groupBy(results.requests, (l) => l.model ?? '');
  const buckets = histogram(results.durationBuckets, 'model');
  const sums = groupBy(results.durationSum, (l) => l.model ?? '');
  const models = new Set([...requests.keys(), ...buckets.keys()]);
  return [...models]
    .map((model) => {
      const series = requests.get(model) ?? [];
      const total = sumIncrease(series);
      const errors = sumIncrease(series.filter((s) => !OK_OUTCOMES.has(s.labels.outcome ?? 'success')));
      const b = buckets.get(model) ?? [];
      const count = b.find((x) => x.le === Infinity)?.count ?? 0;
      const sum = sumIncrease(sums.get(model) ?? []);
      return {
        model,
        requests: round(total, 3),
        errors: round(errors, 3),
        errorRatio: total > 0 ? round(errors / total) : null,
        meanSeconds: count > 0 ? round(sum / count, 3) : null,
        p95Seconds: count > 0 ? round(histogramQuantile(0.95, b) ?? NaN, 3) : null,
      };
    })
    .sort((a, b) => a.model.localeCompare(b.model));
}

/** Compares a value with its threshold point by point (thresholds can change during the window). */
function thresholdFigures(
  valueSeries: RangeSeries[],
  thresholdSeries: RangeSeries[],
  w: Window,
  triggers: (value: number, threshold: number) => boolean,
  pct: number,
): ThresholdFigures | null {
  if (valueSeries.length === 0) return null;
  const values = inWindow(onGrid(valueSeries[0], w));
  const thresholds = thresholdSeries.length > 0 ? inWindow(onGrid(thresholdSeries[0], w)) : values.map(() => null);
  const present = values.filter((v): v is number => v !== null);
  let triggered = 0;
  values.forEach((v, i) => {
    const t = thresholds[i];
    if (v !== null && t !== null && triggers(v, t)) triggered++;
  });
  const sorted = [...present].sort((a, b) => a - b);
  return {
    samples: present.length,
    triggered,
    threshold: lastValue(thresholdSeries),
    percentile: percentile(sorted, pct),
    min: sorted[0] ?? null,
    max: sorted[sorted.length - 1] ?? null,
  };
}

function warmupFigures(results: QueryResults, w: Window): WarmupFigures | null {
  const runningSeries = results.running.find((s) => s.labels.target === WARMUP_TARGET);
  if (results.pending.length === 0 || !runningSeries) return null;
  const pending = onGrid(results.pending[0], w);
  const running = onGrid(runningSeries, w);
  const expected = results.expectedSoon.length > 0 ? onGrid(results.expectedSoon[0], w) : pending.map(() => null);
  const { starts, stops } = transitions(running);
  const forecastStarts = starts.filter((i) => expected[i - 1] === 1 && (pending[i - 1] ?? 0) === 0 && (pending[i] ?? 0) === 0);
  const arrivals: number[] = [];
  for (let i = 1; i < pending.length; i++) if (pending[i - 1] === 0 && (pending[i] ?? 0) > 0) arrivals.push(i);

  let warm = 0;
  let cold = 0;
  let warmedByForecast = 0;
  for (const i of arrivals) {
    if ((running[i - 1] ?? 0) > 0) {
      warm++;
      const lastStart = Math.max(-1, ...starts.filter((s) => s < i));
      const stoppedSince = stops.some((s) => s > lastStart && s < i);
      if (forecastStarts.includes(lastStart) && !stoppedSince) warmedByForecast++;
    } else {
      cold++;
    }
  }
  let forecastStartsWithoutWork = 0;
  let warmupSteps = 0;
  for (const s of forecastStarts) {
    const nextStop = Math.min(running.length, ...stops.filter((x) => x > s));
    const nextArrival = Math.min(running.length, ...arrivals.filter((x) => x >= s));
    if (nextArrival >= nextStop) forecastStartsWithoutWork++;
    warmupSteps += Math.min(nextStop, nextArrival) - s;
  }
  const target = targetFigures(results, w).find((t) => t.target === WARMUP_TARGET);
  const memory = target?.memoryBytesWhileRunning ?? null;
  const warmupSeconds = warmupSteps * w.step;
  return {
    arrivals: arrivals.length,
    warm,
    warmedByForecast,
    cold,
    forecastStartsWithoutWork,
    warmupSeconds,
    warmupGiBHours: memory === null ? null : round((warmupSeconds / 3600) * (memory / GIB), 3),
  };
}

function preloadFigures(results: QueryResults): PreloadFigures | null {
  if (results.preloads.length === 0) return null;
  const byResult: Record<string, number> = {};
  const byModel: PreloadFigures['byModel'] = [];
  for (const [key, series] of groupBy(results.preloads, (l) => JSON.stringify([l.model ?? '', l.result ?? '']))) {
    const [model, result] = JSON.parse(key) as string[];
    const count = round(sumIncrease(series), 3);
    byResult[result] = round((byResult[result] ?? 0) + count, 3);
    if (count > 0) byModel.push({ model, result, count });
  }
  byModel.sort((a, b) => `${a.model}/${a.result}`.localeCompare(`${b.model}/${b.result}`));
  return { byResult, byModel };
}

function chart(id: string, title: string, unit: string, w: Window, series: Array<{ label: string; s: RangeSeries }>): Chart {
  return { id, title, unit, x: gridTimes(w), series: series.map(({ label, s }) => ({ label, values: onGrid(s, w) })) };
}

/** About this many bars per chart of counts: one per step would be unreadable over days. */
const COUNT_BINS = 200;
const BIN_SECONDS = [60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400];

/**
 * Increase per bin of one model's counters (summed over instances; a drop counts as a reset from 0).
 * Bin i covers the steps that end in (x[i] - bin, x[i]].
 */
function perBin(series: RangeSeries[], w: Window, binSteps: number): { x: number[]; values: Array<number | null> } {
  const grids = series.map((s) => onGrid(s, w));
  const n = gridTimes(w).length;
  const x: number[] = [];
  const values: Array<number | null> = [];
  for (let end = binSteps; end < n; end += binSteps) {
    let total: number | null = null;
    for (let i = end - binSteps + 1; i <= end; i++) {
      for (const g of grids) {
        const a = g[i - 1];
        const b = g[i];
        if (a === null || b === null) continue;
        total = (total ?? 0) + (b >= a ? b - a : b);
      }
    }
    x.push(w.start + end * w.step);
    values.push(total);
  }
  return { x, values };
}

function charts(results: QueryResults, w: Window): Chart[] {
  const out: Chart[] = [];
  if (results.running.length > 0) {
    out.push(chart('running', 'Targets running (1) or stopped (0)', '', w, results.running.map((s) => ({ label: s.labels.target ?? '', s }))));
  }
  if (results.branches.length > 0) {
    out.push(
      chart('branches', 'Recommendation branch: (complexity, task_type) pairs it decides', 'pairs', w,
        results.branches.map((s) => ({ label: s.labels.priority ?? '', s }))),
    );
  }
  if (results.pending.length > 0) {
    const series = [{ label: 'pending AI work', s: results.pending[0] }];
    if (results.expectedSoon.length > 0) series.push({ label: 'work expected soon (forecast)', s: results.expectedSoon[0] });
    out.push(chart('pending', 'Pending AI work and the warm-up forecast', 'executions', w, series));
  }
  if (results.memoryAvailable.length > 0) {
    const series = [{ label: 'available memory', s: results.memoryAvailable[0] }];
    if (results.memoryThreshold.length > 0) series.push({ label: 'threshold', s: results.memoryThreshold[0] });
    out.push(chart('memory', 'Available memory (least among hosts) and its threshold', 'bytes', w, series));
  }
  if (results.requests.length > 0) {
    const byModel = [...groupBy(results.requests, (l) => l.model ?? '').entries()].sort(([a], [b]) => a.localeCompare(b));
    const binSeconds = BIN_SECONDS.find((b) => b % w.step === 0 && (w.end - w.start) / b <= COUNT_BINS) ?? w.end - w.start;
    const binSteps = binSeconds / w.step;
    const bins = byModel.map(([model, s]) => ({ model, ...perBin(s, w, binSteps) }));
    out.push({
      id: 'requests',
      title: `Requests per model per ${duration(binSteps * w.step)}`,
      unit: 'requests',
      x: bins[0].x,
      series: bins.map((b) => ({ label: b.model, values: b.values })),
    });
  }
  return out;
}

/** Every figure of the report, from the range queries' results (pure). */
export function computeFigures(results: QueryResults, w: Window): ReportFigures {
  const inputGroups = groupBy(results.inputs, (l) => l.input ?? '');
  const inputs = [...inputGroups.entries()]
    .map(([input, series]) => {
      const values = onGrid(series[0], w);
      const observedSeconds = secondsWhere(values, w, () => true);
      const missingSeconds = secondsWhere(values, w, (v) => v === 0);
      return { input, observedSeconds, missingSeconds, missingRatio: observedSeconds > 0 ? round(missingSeconds / observedSeconds) : 0 };
    })
    .sort((a, b) => a.input.localeCompare(b.input));
  const branchSeconds = results.branches.map((s) => ({
    priority: s.labels.priority ?? '',
    seconds: secondsWhere(onGrid(s, w), w, (v) => v > 0),
  }));
  const branchTotal = branchSeconds.reduce((a, b) => a + b.seconds, 0);
  const missing = (Object.keys(QUERIES) as QueryName[])
    .filter((name) => results[name].length === 0)
    .map((name) => ({ series: QUERIES[name].expr, source: QUERIES[name].source }));
  return {
    window: w,
    targets: targetFigures(results, w),
    actions: actionFigures(results),
    wakes: wakeFigures(results),
    branches: branchSeconds
      .map((b) => ({ ...b, share: branchTotal > 0 ? round(b.seconds / branchTotal) : 0 }))
      .sort((a, b) => b.seconds - a.seconds || a.priority.localeCompare(b.priority)),
    inputs,
    models: modelFigures(results),
    memory: thresholdFigures(results.memoryAvailable, results.memoryThreshold, w, (v, t) => v < t, 1),
    cpu: thresholdFigures(results.cpu, results.cpuThreshold, w, (v, t) => v > t, 99),
    idlePeriodSeconds: lastValue(results.idlePeriod),
    warmup: warmupFigures(results, w),
    preloads: preloadFigures(results),
    missing,
    charts: charts(results, w),
  };
}
