import { ReportError } from './report-error';

/** One series of a range query: its labels and its [unix seconds, value] points. */
export interface RangeSeries {
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

export interface PrometheusClient {
  /** GET /api/v1/query_range; throws ReportError for an unreachable server or an API error. */
  queryRange(expr: string, start: number, end: number, step: number): Promise<RangeSeries[]>;
}

export interface PrometheusClientOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface ApiBody {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: Array<{ metric?: Record<string, string>; values?: Array<[number, string]> }> };
}

/** Reads series through the Prometheus HTTP API (read only: the report never writes). */
export function createPrometheusClient(baseUrl: string, options: PrometheusClientOptions = {}): PrometheusClient {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new ReportError(`--prometheus "${baseUrl}" is not a URL (expected e.g. http://localhost:9090)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ReportError(`--prometheus "${baseUrl}" must be an http:// or https:// URL`);
  }
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const root = base.href.replace(/\/+$/, '');

  return {
    async queryRange(expr, start, end, step) {
      const body = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
      let res: Response;
      try {
        res = await doFetch(`${root}/api/v1/query_range`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (err as Error).message;
        throw new ReportError(`cannot reach Prometheus at ${root} (${why}): check --prometheus and that Prometheus runs`);
      }
      const text = await res.text();
      let parsed: ApiBody;
      try {
        parsed = JSON.parse(text) as ApiBody;
      } catch {
        throw new ReportError(
          `${root}/api/v1/query_range answered HTTP ${res.status} with no Prometheus API response (${text.slice(0, 120).trim() || 'empty body'}): is --prometheus the Prometheus server's URL?`,
        );
      }
      if (parsed.status !== 'success') {
        throw new ReportError(`Prometheus refused the query ${expr}: HTTP ${res.status} ${parsed.errorType ?? ''} ${parsed.error ?? ''}`.trim());
      }
      if (parsed.data?.resultType !== 'matrix' || !Array.isArray(parsed.data.result)) {
        throw new ReportError(`Prometheus answered the range query ${expr} with ${parsed.data?.resultType ?? 'no'} result type, expected matrix`);
      }
      return parsed.data.result.map((r) => ({
        labels: r.metric ?? {},
        points: (r.values ?? []).map(([t, v]) => [Number(t), Number(v)] as [number, number]),
      }));
    },
  };
}
