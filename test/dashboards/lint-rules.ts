/**
 * The dashboard conventions (Grafana's dashboard linter and the monitoring mixins) as functions that
 * list problems: lint.test.ts applies them to every dashboard, lint-rules.test.ts shows each one
 * catches what it is meant to catch.
 */
import {
  LINT_VALUES,
  dataPanels,
  expandVariables,
  referencedVariables,
  type Dashboard,
  type TemplateVariable,
} from './dashboard-files';
import { rangeFunctionWindows, selectors, syntaxErrors } from './promql';
import { receiverNames, sourceOf } from './metric-sources';

export const TITLE_PREFIX = 'AI Dispatcher / ';
export const TAG = 'ai-dispatcher';
const DS_UID = '${datasource}';
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms']);
// A duration no panel would pick by hand: shows which windows came from $__rate_interval.
const RATE_SENTINEL = '4242s';

export function variableQuery(variable: TemplateVariable): string {
  const query = variable.query as string | { query?: string };
  return typeof query === 'string' ? query : (query?.query ?? '');
}

function targetsOf(dashboard: Dashboard) {
  return dataPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel, target, label: `"${panel.title}" ${target.refId}` })),
  );
}

export function identityProblems(dashboard: Dashboard): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9-]{1,40}$/.test(dashboard.uid ?? '')) problems.push(`uid ${JSON.stringify(dashboard.uid)} is not a fixed short uid`);
  if (!dashboard.title?.startsWith(TITLE_PREFIX)) problems.push(`title does not start with "${TITLE_PREFIX}"`);
  if (!(dashboard.tags ?? []).includes(TAG)) problems.push(`tag "${TAG}" missing`);
  if ((dashboard.id ?? null) !== null) problems.push('numeric id set (provisioned dashboards need id null)');
  return problems;
}

export function datasourceProblems(dashboard: Dashboard): string[] {
  const variables = dashboard.templating?.list ?? [];
  const problems: string[] = [];
  const ds = variables.find((v) => v.name === 'datasource');
  if (!ds || ds.type !== 'datasource' || ds.query !== 'prometheus') problems.push('no `datasource` variable of type datasource for prometheus');
  for (const panel of dataPanels(dashboard)) {
    if (panel.datasource?.uid !== DS_UID) problems.push(`panel "${panel.title}" does not use $datasource`);
    for (const target of panel.targets ?? []) {
      if (target.datasource?.uid !== DS_UID) problems.push(`panel "${panel.title}" target ${target.refId} does not use $datasource`);
    }
  }
  for (const v of variables) {
    if (v.type === 'query' && v.datasource?.uid !== DS_UID) problems.push(`variable ${v.name} does not use $datasource`);
  }
  return problems;
}

export function panelProblems(dashboard: Dashboard): string[] {
  const problems: string[] = [];
  const panels = dataPanels(dashboard);
  for (const panel of panels) {
    if (!panel.title?.trim()) problems.push(`panel ${panel.id}: no title`);
    if (!panel.description?.trim()) problems.push(`"${panel.title}": no description`);
    if (!panel.fieldConfig?.defaults?.unit?.trim()) problems.push(`"${panel.title}": no unit`);
    if (!panel.gridPos) problems.push(`"${panel.title}": no gridPos`);
    const targets = panel.targets ?? [];
    if (targets.length === 0) problems.push(`"${panel.title}": no targets`);
    for (const target of targets) if (!target.expr?.trim()) problems.push(`"${panel.title}" ${target.refId}: empty expr`);
    const refIds = targets.map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) problems.push(`"${panel.title}": duplicate refIds`);
  }
  const ids = panels.map((p) => p.id);
  const titles = panels.map((p) => p.title);
  if (new Set(ids).size !== ids.length) problems.push('duplicate panel ids');
  if (new Set(titles).size !== titles.length) problems.push('duplicate panel titles');
  return problems;
}

export function variableProblems(dashboard: Dashboard): string[] {
  const variables = dashboard.templating?.list ?? [];
  const names = new Set(variables.map((v) => v.name));
  const problems: string[] = [];
  const texts = [
    ...targetsOf(dashboard).map(({ target, label }) => [label, target.expr ?? ''] as const),
    ...variables.map((v) => [`variable ${v.name}`, variableQuery(v)] as const),
  ];
  for (const [where, text] of texts) {
    for (const name of referencedVariables(text)) {
      if (!names.has(name) && !BUILTIN_VARIABLES.has(name)) problems.push(`${where}: undefined variable $${name}`);
    }
  }
  const used = new Set(referencedVariables(JSON.stringify(dashboard.panels) + variables.map(variableQuery).join('\n')));
  for (const name of names) if (!used.has(name)) problems.push(`variable ${name} is never used`);
  return problems;
}

/** Where a dashboard has job/instance variables, every receiver series (and up) is filtered by them. */
export function jobInstanceProblems(dashboard: Dashboard): string[] {
  const names = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
  if (!names.has('job')) return [];
  if (!names.has('instance')) return ['a job variable without an instance variable'];
  const receiver = receiverNames();
  return targetsOf(dashboard).flatMap(({ target, label }) =>
    selectors(expandVariables(target.expr ?? '', { ...LINT_VALUES, job: '$job', instance: '$instance', target: '$target' }))
      .filter((s) => receiver.has(s.name) || s.name === 'up')
      .filter((s) => s.matchers.get('job')?.[1] !== '$job' || s.matchers.get('instance')?.[1] !== '$instance')
      .map((s) => `${label}: ${s.name} not filtered by $job and $instance`),
  );
}

export function promqlProblems(dashboard: Dashboard): string[] {
  return targetsOf(dashboard).flatMap(({ target, label }) =>
    syntaxErrors(expandVariables(target.expr ?? '', LINT_VALUES)).map((error) => `${label}: ${error}`),
  );
}

export function rateIntervalProblems(dashboard: Dashboard): string[] {
  return targetsOf(dashboard).flatMap(({ target, label }) =>
    rangeFunctionWindows(expandVariables(target.expr ?? '', { ...LINT_VALUES, rateInterval: RATE_SENTINEL }))
      .filter((call) => call.window !== RATE_SENTINEL)
      .map((call) => `${label}: ${call.fn}() over [${call.window}], not $__rate_interval`),
  );
}

/** Metrics that no recording rule, rule input, receiver metric or Prometheus itself produces. */
export function orphanSeriesProblems(dashboard: Dashboard): string[] {
  const fromTargets = targetsOf(dashboard).flatMap(({ target, label }) =>
    selectors(expandVariables(target.expr ?? '', LINT_VALUES)).map((s) => [label, s.name] as const),
  );
  const fromVariables = (dashboard.templating?.list ?? [])
    .filter((v) => v.type === 'query')
    .flatMap((v) => {
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variableQuery(v));
      if (!match) return [[`variable ${v.name}`, '(not label_values(selector, label))'] as const];
      return selectors(expandVariables(match[1], LINT_VALUES)).map((s) => [`variable ${v.name}`, s.name] as const);
    });
  return [...fromTargets, ...fromVariables]
    .filter(([, name]) => sourceOf(name) === undefined)
    .map(([where, name]) => `${where}: nothing produces ${name}`);
}

export const LINT_RULES = {
  identity: identityProblems,
  datasource: datasourceProblems,
  panels: panelProblems,
  variables: variableProblems,
  jobInstance: jobInstanceProblems,
  promql: promqlProblems,
  rateInterval: rateIntervalProblems,
  orphanSeries: orphanSeriesProblems,
};
