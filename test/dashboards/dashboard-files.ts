/**
 * Reads the Grafana dashboards in dashboards/ and walks their panels and query targets, for the lint
 * and live tests. Grafana variables in a query are expanded the way Grafana would before sending it.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DASHBOARD_DIR = path.resolve(__dirname, '../../dashboards');

export interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  datasource?: { type?: string; uid?: string };
  [key: string]: unknown;
}

export interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string; [key: string]: unknown }; overrides?: unknown[] };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
  gridPos?: { x: number; y: number; w: number; h: number };
  [key: string]: unknown;
}

export interface TemplateVariable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  panels: Panel[];
  templating: { list: TemplateVariable[] };
  [key: string]: unknown;
}

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

export function dashboardFiles(): DashboardFile[] {
  return fs
    .readdirSync(DASHBOARD_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      file: name,
      dashboard: JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, name), 'utf8')) as Dashboard,
    }));
}

/** Every panel, rows' nested (collapsed) panels included; rows themselves are listed too. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  const visit = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      out.push(panel);
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Panels that show data (everything but rows). */
export function dataPanels(dashboard: Dashboard): Panel[] {
  return allPanels(dashboard).filter((panel) => panel.type !== 'row');
}

export interface PanelTarget {
  file: string;
  dashboard: Dashboard;
  panel: Panel;
  target: Target;
  /** "<dashboard file> / <panel title> / <refId>", for test names and messages. */
  label: string;
}

export function allTargets(files: DashboardFile[] = dashboardFiles()): PanelTarget[] {
  const out: PanelTarget[] = [];
  for (const { file, dashboard } of files) {
    for (const panel of dataPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        out.push({ file, dashboard, panel, target, label: `${file} / ${panel.title} / ${target.refId}` });
      }
    }
  }
  return out;
}

/** Concrete values for Grafana's built-in and our template variables. */
export interface VariableValues {
  job: string;
  instance: string;
  target: string;
  rateInterval: string;
  interval: string;
  range: string;
}

export const LINT_VALUES: VariableValues = {
  job: 'ai-dispatcher',
  instance: '127.0.0.1:9464',
  target: 'ollama',
  rateInterval: '1m',
  interval: '15s',
  range: '6h',
};

/**
 * Expands $var, ${var} and ${var:format} the way Grafana does before it sends a query.
 * Multi-value variables are expanded to a regex alternation, as Grafana does inside =~ matchers.
 * An unknown variable is left in place, so the PromQL parser reports it.
 */
export function expandVariables(expr: string, values: VariableValues): string {
  const table: Record<string, string> = {
    job: values.job,
    instance: values.instance,
    target: values.target,
    __rate_interval: values.rateInterval,
    __interval: values.interval,
    __range: values.range,
  };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : whole;
  });
}

/** Names of the variables a string refers to ($x, ${x}, ${x:fmt}). */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)) names.add(match[1] ?? match[2]);
  return [...names];
}
