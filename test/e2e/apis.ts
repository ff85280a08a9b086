/** Small clients for what the e2e test reads: Prometheus and Alertmanager HTTP APIs, /metrics text. */

export interface PromSeries { metric: Record<string, string>; value: [number, string] }

export async function promQuery(prometheus: string, query: string): Promise<PromSeries[]> {
  const url = new URL('/api/v1/query', prometheus);
  url.searchParams.set('query', query);
  const body = (await (await fetch(url)).json()) as { status: string; error?: string; data: { result: PromSeries[] } };
  if (body.status !== 'success') throw new Error(`query ${query}: ${body.error}`);
  return body.data.result;
}

export interface PromAlert { labels: Record<string, string>; state: string }

export async function promAlerts(prometheus: string): Promise<PromAlert[]> {
  const body = (await (await fetch(new URL('/api/v1/alerts', prometheus))).json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

export interface AmAlert { labels: Record<string, string>; status: { state: string }; receivers: Array<{ name: string }> }

export async function amAlerts(alertmanager: string): Promise<AmAlert[]> {
  return (await (await fetch(new URL('/api/v2/alerts', alertmanager))).json()) as AmAlert[];
}

/** Sum of the samples of `name` whose labels include `labels`, from a text exposition. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
