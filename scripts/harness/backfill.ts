/**
 * Known history for a live Prometheus: series written as OpenMetrics and turned into TSDB blocks by
 * `promtool tsdb create-blocks-from openmetrics` in a data directory, which startPrometheus({ dataDir })
 * then serves. Recorded series are backfilled as raw series of the same name.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface HistorySeries {
  name: string;
  labels: Record<string, string>;
  /** [unix seconds, value], in time order. */
  points: Array<[number, number]>;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Writes the series into `dataDir` as TSDB blocks (promtool on PATH). */
export function backfill(dataDir: string, series: HistorySeries[]): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const byName = new Map<string, HistorySeries[]>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const lines: string[] = [];
  for (const [name, family] of byName) {
    lines.push(`# TYPE ${name} unknown`);
    for (const s of family) {
      const l = labelText(s.labels);
      for (const [t, v] of s.points) lines.push(`${name}${l} ${v} ${t}`);
    }
  }
  lines.push('# EOF');
  const file = path.join(dataDir, '..', `backfill-${process.pid}-${Date.now()}.om`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  try {
    execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, dataDir], { stdio: 'pipe' });
  } finally {
    fs.rmSync(file, { force: true });
  }
}
