import type { RangeSeries } from './prometheus-client';

/**
 * The report's time grid: range-query points at start, start + step, ..., end. Each point after the
 * first stands for the step that ends at it (the value Prometheus saw then, held for the step); the
 * first point is only the baseline of counters and of transitions.
 */
export interface Window {
  start: number;
  end: number;
  step: number;
}

/** Prometheus answers at most 11,000 points per series: the smallest of these steps that fits. */
const STEPS = [15, 30, 60, 120, 300, 600, 900, 1800, 3600];
const MAX_POINTS = 11_000;

export function chooseStep(rangeSeconds: number): number {
  for (const step of STEPS) if (rangeSeconds / step + 1 <= MAX_POINTS) return step;
  return Math.ceil(rangeSeconds / (MAX_POINTS - 1) / 3600) * 3600;
}

/** The window that ends at `end` (aligned down to the step, so reruns read the same points). */
export function windowEndingAt(end: number, rangeSeconds: number): Window {
  const step = chooseStep(rangeSeconds);
  const alignedEnd = Math.floor(end / step) * step;
  return { start: alignedEnd - rangeSeconds, end: alignedEnd, step };
}

export function gridTimes(w: Window): number[] {
  const times: number[] = [];
  for (let t = w.start; t <= w.end; t += w.step) times.push(t);
  return times;
}

/** The series' values on the grid (null where it had no sample). */
export function onGrid(series: RangeSeries, w: Window): Array<number | null> {
  const byTime = new Map(series.points.map(([t, v]) => [Math.round(t), v]));
  return gridTimes(w).map((t) => byTime.get(t) ?? null);
}

/** Increase of a counter over its points, counting a drop as a reset (as Prometheus does). */
export function counterIncrease(points: Array<[number, number]>): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const delta = points[i][1] - points[i - 1][1];
    total += delta >= 0 ? delta : points[i][1];
  }
  return total;
}

/** Seconds of the window (points after the first) where the value is present / matches. */
export function secondsWhere(values: Array<number | null>, w: Window, match: (v: number) => boolean): number {
  let n = 0;
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (v !== null && match(v)) n++;
  }
  return n * w.step;
}

/** Histogram quantile over bucket increases, interpolated as Prometheus's histogram_quantile. */
export function histogramQuantile(q: number, buckets: Array<{ le: number; count: number }>): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length === 0 || sorted[sorted.length - 1].le !== Infinity) return null;
  const total = sorted[sorted.length - 1].count;
  if (total <= 0) return null;
  const rank = q * total;
  let i = sorted.findIndex((b) => b.count >= rank);
  if (i < 0) i = sorted.length - 1;
  if (sorted[i].le === Infinity) return sorted.length > 1 ? sorted[sorted.length - 2].le : null;
  const lower = i === 0 ? 0 : sorted[i - 1].le;
  const below = i === 0 ? 0 : sorted[i - 1].count;
  const inBucket = sorted[i].count - below;
  if (i === 0 && sorted[i].le <= 0) return sorted[i].le;
  return inBucket === 0 ? sorted[i].le : lower + (sorted[i].le - lower) * ((rank - below) / inBucket);
}
