/**
 * Runs dashboard targets against a Prometheus HTTP API the way Grafana does, for live tests (this
 * suite's panels-live test, and the end-to-end test's live stack):
 *
 *   const empty = await panelsWithoutData(prometheusUrl, values, startSeconds);   // [] when all have data
 */
import { allTargets, expandVariables, type PanelTarget, type VariableValues } from './dashboard-files';

export interface Series {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}

async function api(baseUrl: string, endpoint: string, params: Record<string, string>): Promise<Series[]> {
  const res = await fetch(`${baseUrl}/api/v1/${endpoint}?${new URLSearchParams(params).toString()}`);
  const body = (await res.json()) as { status: string; data: { result: Series[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${endpoint} ${params.query}: ${body.error}`);
  return body.data.result;
}

/** Instant targets at now; the others as a range query from `startSeconds` to now, step 1 s. */
export function runTarget(baseUrl: string, target: PanelTarget, values: VariableValues, startSeconds: number): Promise<Series[]> {
  const query = expandVariables(target.target.expr ?? '', values);
  if (target.target.instant && !target.target.range) return api(baseUrl, 'query', { query });
  const end = Math.ceil(Date.now() / 1000);
  return api(baseUrl, 'query_range', { query, start: String(startSeconds), end: String(end), step: '1' });
}

/** True when at least one sample is a number (histogram_quantile over no increase gives only NaN). */
export function hasNumber(series: Series[]): boolean {
  return series.some((s) => [...(s.values ?? []), ...(s.value ? [s.value] : [])].some(([, v]) => !Number.isNaN(Number(v))));
}

/** Labels ("<file> / <panel> / <refId>") of the targets that return no number, except those skipped. */
export async function panelsWithoutData(
  baseUrl: string,
  values: VariableValues,
  startSeconds: number,
  skip: (target: PanelTarget) => boolean = () => false,
): Promise<string[]> {
  const empty: string[] = [];
  for (const target of allTargets()) {
    if (skip(target)) continue;
    if (!hasNumber(await runTarget(baseUrl, target, values, startSeconds))) empty.push(target.label);
  }
  return empty;
}
