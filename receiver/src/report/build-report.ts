import { computeFigures, type ReportFigures } from './figures';
import type { PrometheusClient } from './prometheus-client';
import { QUERIES, type QueryName, type QueryResults } from './queries';
import { ReportError } from './report-error';
import { suggest, type Suggestion } from './suggestions';
import type { Window } from './timeline';

const CONCURRENCY = 4;

/** Runs every report query over the window (a few at a time) and computes figures and suggestions. */
export async function buildReport(client: PrometheusClient, w: Window): Promise<{ figures: ReportFigures; suggestions: Suggestion[] }> {
  const names = Object.keys(QUERIES) as QueryName[];
  const results = {} as QueryResults;
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      results[name] = await client.queryRange(QUERIES[name].expr, w.start, w.end, w.step);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  if (names.every((n) => results[n].length === 0)) {
    const from = new Date(w.start * 1000).toISOString();
    const to = new Date(w.end * 1000).toISOString();
    throw new ReportError(
      `Prometheus has none of the report's series between ${from} and ${to}: is this the Prometheus that loads the ai-dispatcher rules (rules/*.yml) and scrapes the receiver, and did it run during this range? Try a shorter --range or an --end when it ran.`,
    );
  }
  const figures = computeFigures(results, w);
  return { figures, suggestions: suggest(figures) };
}
