import type { ReportFigures } from './figures';
import { WARMUP_TARGET } from './figures';
import { bytes, count, duration, percent, trim } from './format';
import type { Suggestion } from './suggestions';

/** The report's content as sections of text and tables, shared by the HTML and Markdown renderers. */
export interface Section {
  id: string;
  title: string;
  paragraphs: string[];
  table?: { head: string[]; rows: string[][] };
  /** Charts (by Chart.id) shown in this section, where a person would rather look than read. */
  charts?: string[];
}

const dash = '–';
const opt = (v: number | null, f: (n: number) => string) => (v === null ? dash : f(v));
const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

export function reportSections(f: ReportFigures, suggestions: Suggestion[]): Section[] {
  const w = f.window;
  const sections: Section[] = [];
  const hasChart = (id: string) => f.charts.some((c) => c.id === id);
  const chartsOf = (...ids: string[]) => ids.filter(hasChart);

  sections.push({
    id: 'window',
    title: 'Window',
    paragraphs: [`From ${iso(w.start)} to ${iso(w.end)} (${duration(w.end - w.start)}), read every ${w.step} s.`],
  });

  sections.push({
    id: 'suggestions',
    title: 'Suggestions',
    paragraphs:
      suggestions.length === 0
        ? ['Nothing to tune: no observed pattern crossed a suggestion\'s limits (see the figures below).']
        : suggestions.map((s) => `${s.text} Evidence: ${s.evidence}`),
  });

  sections.push({
    id: 'saved',
    title: 'Time stopped and memory saved',
    paragraphs: [
      f.targets.length === 0
        ? 'No target was observed (target:ai_dispatcher_target_running:max is absent).'
        : `Memory-hours saved = time stopped × the ${WARMUP_TARGET} container's mean working set while it ran (cAdvisor), against running all the time.`,
    ],
    table: {
      head: ['target', 'observed', 'stopped', 'stopped share', 'memory while running', 'saved GiB-hours', 'starts', 'stops', `stops followed by a start within 10 min`],
      rows: f.targets.map((t) => [
        t.target,
        duration(t.observedSeconds),
        duration(t.stoppedSeconds),
        percent(t.stoppedRatio),
        opt(t.memoryBytesWhileRunning, bytes),
        opt(t.savedGiBHours, trim),
        count(t.starts),
        count(t.stops),
        count(t.stopsFollowedByStart),
      ]),
    },
    charts: chartsOf('running'),
  });

  sections.push({
    id: 'actions',
    title: 'Lifecycle actions of the receiver',
    paragraphs: f.actions.length === 0 ? ['No lifecycle action was counted in the window (ai_dispatcher_actions_total).'] : [],
    table: f.actions.length === 0 ? undefined : { head: ['target', 'action', 'result', 'count'], rows: f.actions.map((a) => [a.target, a.action, a.result, count(a.count)]) },
  });

  const wk = f.wakes;
  sections.push({
    id: 'wakes',
    title: 'Requests that waited for a wake',
    paragraphs: wk
      ? [
          `The gateway woke a stopped Ollama ${count(wk.total)} times (${Object.entries(wk.byResult).map(([r, n]) => `${r}: ${count(n)}`).join(', ') || 'none'}).` +
            (wk.meanSeconds === null
              ? ''
              : ` A wake took ${duration(wk.meanSeconds)} on average, 95 % at most ${duration(wk.p95Seconds ?? 0)}: that long waited the requests that arrived while Ollama was stopped (their whole time is in the model table's latency).`),
        ]
      : ['No gateway series (ollama_gateway_wakes_total, ollama_gateway_wake_duration_seconds) in the window: the gateway is not scraped or not in use, so waits for a wake are not known.'],
  });

  sections.push({
    id: 'branches',
    title: 'Recommendation branches and missing inputs',
    paragraphs: [
      f.branches.length === 0 ? 'No recommendation was recorded (priority:ai_recommended_model:count is absent).' : 'Time each branch decided at least one (complexity, task_type) pair.',
    ],
    table: {
      head: ['branch / input', 'time', 'share'],
      rows: [
        ...f.branches.map((b) => [b.priority, duration(b.seconds), percent(b.share)]),
        ...f.inputs.map((i) => [`input ${i.input} missing`, duration(i.missingSeconds), percent(i.missingRatio)]),
      ],
    },
    charts: chartsOf('branches', 'memory'),
  });

  sections.push({
    id: 'models',
    title: 'Requests, latency and errors by model',
    paragraphs: f.models.length === 0 ? ['No request series (ollama_requests_total, ollama_request_duration_seconds) in the window: the gateway is not scraped or not in use.'] : [],
    table:
      f.models.length === 0
        ? undefined
        : {
            head: ['model', 'requests', 'errors', 'error share', 'mean latency', 'p95 latency'],
            rows: f.models.map((m) => [m.model, count(m.requests), count(m.errors), opt(m.errorRatio, percent), opt(m.meanSeconds, duration), opt(m.p95Seconds, duration)]),
          },
    charts: chartsOf('requests'),
  });

  const wu = f.warmup;
  sections.push({
    id: 'warmup',
    title: 'Cold starts the warm-up avoided and missed',
    paragraphs: wu
      ? [
          `${wu.arrivals} arrivals of pending AI work: ${wu.warm} found ${WARMUP_TARGET} running (${wu.warmedByForecast} of them started by the forecast), ${wu.cold} found it stopped and waited for a start (missed).`,
          `Warm-ups: ${duration(wu.warmupSeconds)} running before work arrived` +
            (wu.warmupGiBHours === null ? '' : ` (${trim(wu.warmupGiBHours)} GiB-hours)`) +
            `; forecast starts followed by no work: ${wu.forecastStartsWithoutWork}.`,
          f.preloads
            ? `Model preloads by the gateway after a start: ${Object.entries(f.preloads.byResult).map(([r, n]) => `${r} ${count(n)}`).join(', ')}.`
            : 'Model preloads: not known (ollama_gateway_preloads_total absent: the gateway has no preload block or is not scraped).',
        ]
      : ['Not known: ai:n8n_pending_ai_work:sum or the ollama target\'s running state is absent in the window.'],
    table:
      f.preloads && f.preloads.byModel.length > 0
        ? { head: ['model preloaded after a start', 'result', 'count'], rows: f.preloads.byModel.map((p) => [p.model || '(none)', p.result, count(p.count)]) }
        : undefined,
    charts: chartsOf('pending'),
  });

  if (f.missing.length > 0) {
    sections.push({
      id: 'missing',
      title: 'Series not found',
      paragraphs: ['These series returned no data in the window; the figures that need them are left out.'],
      table: { head: ['series', 'to get it'], rows: f.missing.map((m) => [m.series, m.source]) },
    });
  }
  return sections;
}
