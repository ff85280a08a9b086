/** The open-loop client of the receiver benchmarks, and the percentile they report. */

/**
 * Calls send(i) for i = 0 .. total-1, call i at t0 + i/rate ms, whatever the answers do (no bursts beyond
 * setTimeout's ~1 ms granularity: a late loop catches up at once). Resolves once every call has settled;
 * maxLagMs is the furthest a call left behind its slot.
 */
export async function sendPaced(rate: number, total: number, send: (i: number) => Promise<void>): Promise<{ maxLagMs: number }> {
  const interval = 1000 / rate;
  const pending: Promise<void>[] = [];
  const t0 = performance.now() + 50;
  let next = 0;
  let maxLagMs = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && t0 + next * interval <= now) {
      maxLagMs = Math.max(maxLagMs, now - (t0 + next * interval));
      pending.push(send(next));
      next += 1;
    }
    const wait = t0 + next * interval - performance.now();
    await new Promise((resolve) => (wait > 1.5 ? setTimeout(resolve, wait - 1) : setImmediate(resolve)));
  }
  await Promise.all(pending);
  return { maxLagMs };
}

/** The p-th percentile of ascending values (NaN when there are none). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
