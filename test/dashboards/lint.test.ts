/**
 * The dashboard conventions (Grafana's dashboard linter and the monitoring mixins), as tests:
 * the linter itself cannot be installed here.
 */
import {
  LINT_VALUES,
  allTargets,
  dashboardFiles,
  dataPanels,
  expandVariables,
  referencedVariables,
  type TemplateVariable,
} from './dashboard-files';
import { rangeFunctionWindows, selectors, syntaxErrors } from './promql';
import { alertNames, recordedNames, receiverNames, sourceOf } from './metric-sources';

const files = dashboardFiles();
const targets = allTargets(files);
const TITLE_PREFIX = 'AI Dispatcher / ';
const TAG = 'ai-dispatcher';
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms']);
// A duration no panel would pick by hand: shows which windows came from $__rate_interval.
const RATE_SENTINEL = '4242s';

function variableQuery(variable: TemplateVariable): string {
  const query = variable.query as string | { query?: string };
  return typeof query === 'string' ? query : (query?.query ?? '');
}

test('there are the two dashboards', () => {
  expect(files.map((f) => f.file)).toEqual(['ai-dispatcher-receiver.json', 'ai-model-dispatcher.json']);
});

describe.each(files.map((f) => [f.file, f.dashboard] as const))('%s', (_file, dashboard) => {
  const variables = dashboard.templating.list;
  const variableNames = new Set(variables.map((v) => v.name));

  test('has a fixed uid, the title prefix, the tag, and no numeric id', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.title.startsWith(TITLE_PREFIX)).toBe(true);
    expect(dashboard.tags).toContain(TAG);
    expect(dashboard.id ?? null).toBeNull();
  });

  test('has a `datasource` variable of type datasource for Prometheus', () => {
    const ds = variables.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  test('every panel and every target uses the datasource variable', () => {
    const wrong = dataPanels(dashboard).flatMap((panel) => [
      ...(panel.datasource?.uid === '${datasource}' ? [] : [`panel "${panel.title}"`]),
      ...(panel.targets ?? [])
        .filter((target) => target.datasource?.uid !== '${datasource}')
        .map((target) => `panel "${panel.title}" target ${target.refId}`),
    ]);
    expect(wrong).toEqual([]);
  });

  test('query variables use the datasource variable too', () => {
    const wrong = variables.filter((v) => v.type === 'query' && v.datasource?.uid !== '${datasource}').map((v) => v.name);
    expect(wrong).toEqual([]);
  });

  test('every panel has a title, a description and a unit', () => {
    const missing = dataPanels(dashboard).flatMap((panel) => {
      const problems: string[] = [];
      if (!panel.title?.trim()) problems.push(`panel ${panel.id}: no title`);
      if (!panel.description?.trim()) problems.push(`"${panel.title}": no description`);
      if (!panel.fieldConfig?.defaults?.unit?.trim()) problems.push(`"${panel.title}": no unit`);
      return problems;
    });
    expect(missing).toEqual([]);
  });

  test('every panel has targets, each with an expression and a unique refId', () => {
    const problems = dataPanels(dashboard).flatMap((panel) => {
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      return [
        ...((panel.targets ?? []).length === 0 ? [`"${panel.title}": no targets`] : []),
        ...((panel.targets ?? []).filter((target) => !target.expr?.trim()).map((target) => `"${panel.title}" ${target.refId}: empty expr`)),
        ...(new Set(refIds).size !== refIds.length ? [`"${panel.title}": duplicate refIds`] : []),
      ];
    });
    expect(problems).toEqual([]);
  });

  test('panel ids and titles are unique, panels have a position', () => {
    const panels = dataPanels(dashboard);
    const ids = panels.map((p) => p.id);
    const titles = panels.map((p) => p.title);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(titles).size).toBe(titles.length);
    expect(panels.filter((p) => !p.gridPos).map((p) => p.title)).toEqual([]);
  });

  test('queries refer only to defined variables', () => {
    const undefinedRefs = targets
      .filter((t) => t.dashboard === dashboard)
      .flatMap((t) => referencedVariables(t.target.expr ?? '').map((name) => [t.label, name] as const))
      .concat(variables.flatMap((v) => referencedVariables(variableQuery(v)).map((name) => [`variable ${v.name}`, name] as const)))
      .filter(([, name]) => !variableNames.has(name) && !BUILTIN_VARIABLES.has(name));
    expect(undefinedRefs).toEqual([]);
  });

  test('every variable is used', () => {
    const text = JSON.stringify(dashboard.panels) + variables.map(variableQuery).join('\n');
    const unused = [...variableNames].filter((name) => !referencedVariables(text).includes(name));
    expect(unused).toEqual([]);
  });

  test('receiver series are filtered by the job and instance variables where the dashboard has them', () => {
    if (!variableNames.has('job')) return;
    expect(variableNames.has('instance')).toBe(true);
    const receiver = receiverNames();
    const unscoped = targets
      .filter((t) => t.dashboard === dashboard)
      .flatMap((t) =>
        selectors(expandVariables(t.target.expr!, { ...LINT_VALUES, job: '$job', instance: '$instance', target: '$target' }))
          .filter((s) => receiver.has(s.name) || s.name === 'up')
          .filter((s) => s.matchers.get('job')?.[1] !== '$job' || s.matchers.get('instance')?.[1] !== '$instance')
          .map((s) => `${t.label}: ${s.name}`),
      );
    expect(unscoped).toEqual([]);
  });
});

describe('every target', () => {
  test.each(targets.map((t) => [t.label, t] as const))('%s parses as PromQL once variables are expanded', (_label, t) => {
    expect(syntaxErrors(expandVariables(t.target.expr ?? '', LINT_VALUES))).toEqual([]);
  });

  test.each(targets.map((t) => [t.label, t] as const))('%s uses $__rate_interval in rate/irate/increase', (_label, t) => {
    const expanded = expandVariables(t.target.expr ?? '', { ...LINT_VALUES, rateInterval: RATE_SENTINEL });
    const wrong = rangeFunctionWindows(expanded).filter((call) => call.window !== RATE_SENTINEL);
    expect(wrong).toEqual([]);
  });

  test.each(targets.map((t) => [t.label, t] as const))('%s queries only series that something produces', (_label, t) => {
    const expanded = expandVariables(t.target.expr ?? '', LINT_VALUES);
    const orphans = selectors(expanded)
      .map((s) => s.name)
      .filter((name) => sourceOf(name) === undefined);
    expect(orphans).toEqual([]);
  });
});

describe('template variable queries', () => {
  const variables = files.flatMap((f) => f.dashboard.templating.list.filter((v) => v.type === 'query').map((v) => [`${f.file} $${v.name}`, v] as const));
  test.each(variables)('%s is label_values() over a produced series', (_label, variable) => {
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variableQuery(variable));
    expect(match).not.toBeNull();
    const inner = expandVariables(match![1], LINT_VALUES);
    expect(syntaxErrors(inner)).toEqual([]);
    expect(selectors(inner).map((s) => s.name).filter((name) => sourceOf(name) === undefined)).toEqual([]);
  });
});

describe('AI Model Dispatcher dashboard content', () => {
  const model = files.find((f) => f.file === 'ai-model-dispatcher.json')!;
  const modelTargets = targets.filter((t) => t.dashboard === model.dashboard);
  const selected = new Set(modelTargets.flatMap((t) => selectors(expandVariables(t.target.expr!, LINT_VALUES)).map((s) => s.name)));

  test('every threshold of the rules is drawn (from the rules\' own series, so they stay in sync)', () => {
    const thresholds = [...recordedNames()].filter((name) => name.startsWith('ai:threshold:'));
    expect(thresholds.length).toBeGreaterThan(0);
    expect(thresholds.filter((name) => !selected.has(name))).toEqual([]);
  });

  test('the usage series (selections, reasons, savings) are all shown', () => {
    const usage = ['model:ai_recommended_model:count', 'priority:ai_recommended_model:count', 'model:ai_recommended_model:share_avg1h',
      'priority:ai_recommended_model:share_avg1h', 'target:ai_dispatcher_target_stopped:ratio_avg1h', 'target:ai_dispatcher_target_stopped:ratio_avg1d',
      'target:ai_dispatcher_saved_memory:byte_seconds_1d'];
    expect(usage.filter((name) => !selected.has(name))).toEqual([]);
  });

  test('the alert panels select exactly the alerts of the bundle', () => {
    const alertTargets = modelTargets.flatMap((t) => selectors(expandVariables(t.target.expr!, LINT_VALUES)).filter((s) => s.name === 'ALERTS'));
    expect(alertTargets.length).toBeGreaterThan(0);
    for (const selector of alertTargets) {
      const [op, value] = selector.matchers.get('alertname') ?? ['', ''];
      expect(op).toBe('=~');
      expect(new Set(value.split('|'))).toEqual(alertNames());
    }
  });
});
