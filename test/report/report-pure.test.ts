/** The report's pure parts: the time grid, counter increases, histogram quantiles, options, suggestions. */
import { parseEnd, parseRange } from '../../receiver/src/report/duration';
import { computeFigures } from '../../receiver/src/report/figures';
import { renderMarkdown } from '../../receiver/src/report/markdown';
import { QUERIES, type QueryName, type QueryResults } from '../../receiver/src/report/queries';
import { parseReportArgs } from '../../receiver/src/report/report-cli';
import { suggest } from '../../receiver/src/report/suggestions';
import { chooseStep, counterIncrease, histogramQuantile, windowEndingAt } from '../../receiver/src/report/timeline';

describe('time grid', () => {
  it('picks the smallest step that keeps a series under Prometheus\'s 11,000 points', () => {
    expect(chooseStep(3600)).toBe(15);
    expect(chooseStep(2 * 86400)).toBe(30);
    expect(chooseStep(7 * 86400)).toBe(60);
    expect(chooseStep(90 * 86400)).toBe(900);
    for (const days of [1, 7, 30, 90]) expect((days * 86400) / chooseStep(days * 86400) + 1).toBeLessThanOrEqual(11_000);
  });

  it('aligns the window end to the step', () => {
    expect(windowEndingAt(1_000_017, 3600)).toEqual({ start: 1_000_005 - 3600, end: 1_000_005, step: 15 });
  });
});

describe('counterIncrease', () => {
  it('sums increments and counts a drop as a restart from 0', () => {
    expect(counterIncrease([[0, 5], [1, 7], [2, 7], [3, 2], [4, 4]])).toBe(2 + 2 + 2);
    expect(counterIncrease([[0, 3]])).toBe(0);
  });
});

describe('histogramQuantile (as Prometheus interpolates)', () => {
  const b = (pairs: Array<[number, number]>) => pairs.map(([le, count]) => ({ le, count }));
  it('interpolates linearly inside the bucket that holds the rank', () => {
    // 10 observations, all in (1, 2]: rank 9.5 -> 1 + 1 * 9.5 / 10.
    expect(histogramQuantile(0.95, b([[1, 0], [2, 10], [Infinity, 10]]))).toBeCloseTo(1.95, 9);
    // First bucket: from 0.
    expect(histogramQuantile(0.5, b([[4, 10], [Infinity, 10]]))).toBe(2);
  });
  it('answers the highest finite bound when the rank is in +Inf, and nothing without observations or +Inf', () => {
    expect(histogramQuantile(0.95, b([[1, 1], [5, 2], [Infinity, 10]]))).toBe(5);
    expect(histogramQuantile(0.95, b([[1, 0], [Infinity, 0]]))).toBeNull();
    expect(histogramQuantile(0.95, b([[1, 3]]))).toBeNull();
  });
});

describe('options', () => {
  it('ranges and ends', () => {
    expect(parseRange('7d')).toBe(604800);
    expect(parseRange('1d12h')).toBe(129600);
    expect(parseRange('1w')).toBe(604800);
    for (const bad of ['7', 'seven days', '5m', '100d', '', '1d 2h']) expect(() => parseRange(bad)).toThrow(/--range/);
    expect(parseEnd('1700000000')).toBe(1_700_000_000);
    expect(parseEnd('2023-11-14T22:13:20Z')).toBe(1_700_000_000);
    expect(() => parseEnd('yesterday')).toThrow(/--end "yesterday"/);
  });

  it('format from --out or --format', () => {
    expect(parseReportArgs(['--prometheus', 'http://p:9090'])).toMatchObject({ format: 'md', out: undefined, rangeSeconds: 604800 });
    expect(parseReportArgs(['--prometheus', 'http://p:9090', '--out', 'r.HTML'])).toMatchObject({ format: 'html' });
    expect(parseReportArgs(['--prometheus', 'http://p:9090', '--out', 'r.txt', '--format', 'md'])).toMatchObject({ format: 'md' });
    expect(() => parseReportArgs(['--prometheus', 'http://p:9090', '--format', 'pdf'])).toThrow('--format must be html or md');
    expect(() => parseReportArgs(['--out', 'r.md'])).toThrow('--prometheus URL is required');
    expect(() => parseReportArgs(['--prometheus', 'http://p', '--bogus'])).toThrow(/bogus/);
  });
});

describe('figures and suggestions without most series', () => {
  const w = { start: 0, end: 600, step: 60 };
  const empty = Object.fromEntries((Object.keys(QUERIES) as QueryName[]).map((n) => [n, []])) as unknown as QueryResults;
  const points = (f: (t: number) => number) => Array.from({ length: 11 }, (_, i) => [i * 60, f(i * 60)] as [number, number]);

  it('lists every absent series with what to load, and makes no suggestion from nothing', () => {
    const results = { ...empty, running: [{ labels: { target: 'ollama' }, points: points(() => 1) }] };
    const f = computeFigures(results, w);
    expect(f.missing.map((m) => m.series)).not.toContain('target:ai_dispatcher_target_running:max');
    expect(f.missing).toContainEqual({ series: 'ollama_gateway_wakes_total{job="ollama"}', source: expect.stringContaining('gateway') });
    expect(f.missing).toHaveLength(Object.keys(QUERIES).length - 1);
    expect(f.wakes).toBeNull();
    expect(f.warmup).toBeNull();
    expect(suggest(f)).toEqual([]);
    const md = renderMarkdown(f, []);
    expect(md).toContain('Nothing to tune');
    expect(md).toContain('| ollama | 10 min | 0 s | 0 % |');
  });

  it('every suggestion states numbers', () => {
    const results: QueryResults = {
      ...empty,
      running: [{ labels: { target: 'ollama' }, points: points((t) => (t % 240 === 60 ? 0 : 1)) }],
      memoryAvailable: [{ labels: {}, points: points(() => 8 * 2 ** 30) }],
      memoryThreshold: [{ labels: {}, points: points(() => 2 * 2 ** 30) }],
      inputs: [{ labels: { input: 'node_cpu' }, points: points((t) => (t === 120 ? 0 : 1)) }],
      requests: [{ labels: { model: 'm', outcome: 'upstream_error' }, points: points((t) => t / 60) }],
    };
    const s = suggest(computeFigures(results, w));
    expect(s.map((x) => x.id).sort()).toEqual(['idle-period-short', 'input-missing-node_cpu', 'memory-threshold-never-triggered', 'model-errors-m']);
    for (const x of s) expect(x.evidence).toMatch(/\d/);
  });
});
