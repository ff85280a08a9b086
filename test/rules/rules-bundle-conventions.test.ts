/**
 * Static checks of the rules bundle: every expression parses as PromQL (lezer-promql, the grammar of
 * Prometheus's own UI), the monitoring-mixin conventions hold, every alert has a runbook section,
 * the lifecycle alerts carry the contract's labels (rules/README.md), and the model tables are complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as {
  parser: { parse(input: string): { iterate(spec: { enter(node: { type: { isError: boolean; name: string }; from: number }): void }): void } };
};

import { RECOMMENDATION_QUERY } from '../../scripts/harness/prometheus';
import { loadRulesConfig, type Branch, type Complexity, type TaskType } from '../../scripts/rules/config';

const ROOT = path.resolve(__dirname, '..', '..');
const RULES_DIR = path.join(ROOT, 'rules');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

function load(file: string): RuleFile {
  return yaml.load(fs.readFileSync(file, 'utf8')) as RuleFile;
}

const ruleFiles = fs
  .readdirSync(RULES_DIR)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => path.join(RULES_DIR, f));
const allRules = ruleFiles.flatMap((file) =>
  load(file).groups.flatMap((g) => g.rules.map((rule) => ({ file: path.basename(file), group: g.name, rule }))),
);
const alerts = allRules.filter((r) => r.rule.alert).map((r) => r.rule as Rule & { alert: string });
const ours = load(path.join(RULES_DIR, 'ai-dispatcher.rules.yml'));
const ourAlerts = load(path.join(RULES_DIR, 'ai-dispatcher.alerts.yml'));
const runbook = fs.readFileSync(path.join(RULES_DIR, 'runbook.md'), 'utf8');
const rulesReadme = fs.readFileSync(path.join(RULES_DIR, 'README.md'), 'utf8');
const receiverReadme = fs.readFileSync(path.join(ROOT, 'receiver', 'README.md'), 'utf8');

/** Offsets of lezer's error nodes in the parse tree of `expr` (empty when it parses). */
function parseErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}
const runbookAnchors = new Set([...runbook.matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1])));

describe('every expression in rules/*.yml', () => {
  it('finds the bundle', () => {
    expect(ruleFiles.map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(['ai-dispatcher.rules.yml', 'ai-dispatcher.alerts.yml']),
    );
    expect(allRules.length).toBeGreaterThan(20);
  });

  it.each(allRules.map((r) => [`${r.file} ${r.rule.record ?? r.rule.alert}`, r.rule.expr]))(
    '%s parses as PromQL',
    (_name, expr) => {
      expect(parseErrors(expr)).toEqual([]);
    },
  );

  it('the parse check rejects broken PromQL', () => {
    expect(parseErrors('sum(rate(x[5m])')).not.toEqual([]);
    expect(parseErrors('a and on() ')).not.toEqual([]);
  });
});

describe('recording rules', () => {
  it('are named level:metric:operations', () => {
    for (const { rule } of allRules.filter((r) => r.rule.record)) {
      expect(rule.record).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*(:[a-zA-Z0-9_]+){1,2}$/);
    }
  });

  it('keep recording rules and alerts in separate files', () => {
    for (const file of ruleFiles) {
      const rules = load(file).groups.flatMap((g) => g.rules);
      const kinds = new Set(rules.map((r) => (r.alert ? 'alert' : 'record')));
      expect([file, kinds.size]).toEqual([file, 1]);
    }
  });
});

describe('alerts', () => {
  it('exist as the issue names them', () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'PendingAIWorkflows',
        'AIServicesIdleTooLong',
        'AIWorkExpectedSoon',
        'AIServiceHighResourceUsage',
        'AIModelPerformanceDegraded',
        'AIRecommendationInputsMissing',
        'AIRecommendationAbsent',
        'AIDispatcherReceiverDown',
        'AIDispatcherLifecycleActionsFailing',
      ]),
    );
  });

  it.each(alerts.map((a) => [a.alert, a]))('%s follows the conventions', (_name, a) => {
    expect(a.for).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
    const ann = a.annotations ?? {};
    expect(ann.summary).toBeTruthy();
    expect(ann.summary).not.toContain('{{');
    expect(ann.description).toContain('{{');
    // Absolute (Alertmanager and Grafana open it as a link), from the pattern of rules/config/ai-dispatcher.yml.
    expect(ann.runbook_url).toMatch(/^https:\/\/[^\s#]+\/rules\/runbook\.md#[a-z0-9-]+$/);
    expect(ann.runbook_url!.split('#')[1]).toBe(a.alert.toLowerCase());
    expect(runbookAnchors).toContain(ann.runbook_url!.split('#')[1]);
  });

  it('each has its own runbook section, and the runbook has no section for an alert that does not exist', () => {
    const names = ourAlerts.groups.flatMap((g) => g.rules.map((r) => r.alert!));
    const sections = [...runbook.matchAll(/^## (.+)$/gm)].map((m) => m[1].trim());
    expect(sections.sort()).toEqual([...names].sort());
  });

  it('lifecycle alerts carry exactly the labels of the contract in rules/README.md', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    expect(byName.get('PendingAIWorkflows')!.labels).toEqual({
      severity: 'info',
      ai_dispatcher_action: 'start',
      ai_dispatcher_target: 'ollama',
    });
    expect(byName.get('AIServicesIdleTooLong')!.labels).toEqual({
      severity: 'info',
      ai_dispatcher_action: 'stop',
      ai_dispatcher_target: 'ollama',
    });
    expect(byName.get('AIWorkExpectedSoon')!.labels).toEqual({
      severity: 'info',
      ai_dispatcher_action: 'start',
      ai_dispatcher_target: 'ollama',
    });
    for (const label of ['ai_dispatcher_action', 'ai_dispatcher_target', 'severity']) {
      expect(rulesReadme).toContain(`| \`${label}\` |`);
    }
    const otherAlerts = alerts.filter((a) => !['PendingAIWorkflows', 'AIServicesIdleTooLong', 'AIWorkExpectedSoon'].includes(a.alert));
    for (const a of otherAlerts) expect(a.labels?.ai_dispatcher_action).toBeUndefined();
  });

  it('operational alerts use only receiver metrics that receiver/README.md lists', () => {
    const contractMetrics = new Set([...receiverReadme.matchAll(/^\| `(ai_dispatcher_[a-z_]+)` \|/gm)].map((m) => m[1]));
    const used = ourAlerts.groups
      .flatMap((g) => g.rules)
      .flatMap((r) => [...r.expr.matchAll(/\b(ai_dispatcher_[a-z_]+)\b/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(0);
    for (const metric of used) expect(contractMetrics).toContain(metric);
  });
});

describe('configuration tables', () => {
  const group = (name: string) => ours.groups.find((g) => g.name === name)!;
  const PRIORITIES = ['resource_conservation', 'metrics_unavailable', 'queue_management', 'optimal_performance'];
  const PAIRS = ['low', 'medium', 'high'].flatMap((c) => ['analysis', 'general'].map((t) => `${c}/${t}`));
  const COLUMNS: Record<string, string[]> = {
    'ai:config:model_map': ['complexity', 'task_type', 'model'],
    'ai:config:branch': ['priority', 'timeout_seconds'],
    'ai:config:timeout': ['priority', 'complexity', 'task_type', 'timeout_seconds'],
    'ai:config:fallback': ['priority', 'model', 'timeout_seconds'],
    'ai:config:model_options': ['model', 'temperature', 'num_predict'],
  };
  /** A table is one rule per row, its value a number, its labels the row's columns (in COLUMNS order). */
  const rows = (record: string) =>
    group('ai-dispatcher')
      .rules.filter((r) => r.record === record)
      .map((r) => {
        expect([record, String(r.expr).trim()]).toEqual([record, expect.stringMatching(/^[1-9][0-9]*$/)]);
        expect(Object.keys(r.labels ?? {}).sort()).toEqual([...COLUMNS[record]].sort());
        return [...COLUMNS[record].map((c) => String(r.labels![c])), String(r.expr).trim()];
      });
  const pairKeys = PRIORITIES.flatMap((p) => PAIRS.map((pair) => `${p}/${pair}`)).sort();

  it('the model map holds, per (priority, complexity, task_type), a preference list numbered 1, 2, ...', () => {
    // Each row's value: the model's place in each priority's list, two decimal digits per priority (0: not listed).
    const lists = new Map<string, number[]>();
    for (const [complexity, taskType, model, value] of rows('ai:config:model_map')) {
      const places = PRIORITIES.map((_, i) => Math.floor(Number(value) / 100 ** (PRIORITIES.length - 1 - i)) % 100);
      expect([model, places.some((p) => p > 0)]).toEqual([model, true]);
      PRIORITIES.forEach((p, i) => {
        if (places[i] === 0) return;
        const key = `${p}/${complexity}/${taskType}`;
        lists.set(key, [...(lists.get(key) ?? []), places[i]]);
      });
    }
    expect([...lists.keys()].sort()).toEqual(pairKeys);
    for (const [key, places] of lists) expect([key, [...places].sort((a, b) => a - b)]).toEqual([key, places.map((_, i) => i + 1)]);
  });

  it('each branch has one row, its value the rank, and each (priority, pair) the timeout of the configuration', () => {
    const branches = rows('ai:config:branch');
    expect(branches.map((r) => [r[0], r[2]])).toEqual(PRIORITIES.map((p, i) => [p, String(i + 1)]));
    const overrides = rows('ai:config:timeout');
    for (const r of overrides) expect(r[4]).toBe(String(PRIORITIES.indexOf(r[0]) + 1));
    const keys = overrides.map((r) => r.slice(0, 3).join('/'));
    expect(new Set(keys).size).toBe(keys.length);
    const config = loadRulesConfig(path.join(RULES_DIR, 'config', 'ai-dispatcher.yml'));
    for (const key of pairKeys) {
      const [priority, complexity, taskType] = key.split('/') as [Branch, Complexity, TaskType];
      const override = overrides.find((r) => r.slice(0, 3).join('/') === key);
      const branchTimeout = branches.find((r) => r[0] === priority)![1];
      expect([key, override ? override[3] : branchTimeout]).toEqual([key, String(config.recommendation[priority][complexity][taskType].timeoutSeconds)]);
      if (override) expect(override[3]).not.toBe(branchTimeout);
    }
  });

  it('the fallback is one row, priority no_fitting_model', () => {
    const fallback = rows('ai:config:fallback');
    expect(fallback).toHaveLength(1);
    expect([fallback[0][0], fallback[0][3]]).toEqual(['no_fitting_model', '1']);
  });

  it('every model of the map and the fallback has one row of generation options', () => {
    const models = new Set([...rows('ai:config:model_map').map((r) => r[2]), ...rows('ai:config:fallback').map((r) => r[1])]);
    const options = rows('ai:config:model_options');
    expect(options.map((r) => r[0]).sort()).toEqual([...models].sort());
    for (const r of options) {
      expect(r[3]).toBe('1');
      expect(Number(r[1])).not.toBeNaN();
      expect(Number.isInteger(Number(r[2]))).toBe(true);
    }
  });

  it('only the input sections name scraped metrics: no rule from the first threshold on', () => {
    const rules = ours.groups.flatMap((g) => g.rules);
    const configAndDecision = rules.slice(rules.findIndex((r) => r.record?.startsWith('ai:threshold:')));
    expect(configAndDecision.some((r) => r.record === 'ai:recommended_model')).toBe(true);
    for (const r of configAndDecision) expect([r.record, r.expr]).toEqual([r.record, expect.not.stringMatching(/\b(node|ollama|container|n8n)_[a-z_]+\{/)]);
    const lifecycleAndServiceAlerts = ourAlerts.groups
      .flatMap((g) => g.rules)
      .filter((r) => ['PendingAIWorkflows', 'AIServicesIdleTooLong', 'AIWorkExpectedSoon', 'AIServiceHighResourceUsage', 'AIModelPerformanceDegraded'].includes(r.alert!));
    expect(lifecycleAndServiceAlerts.length).toBe(5);
    for (const r of lifecycleAndServiceAlerts) expect(r.expr).not.toMatch(/\b(node|ollama|container|n8n)_[a-z_]+\{/);
  });
});

describe('rules/README.md', () => {
  const section = rulesReadme;

  it('documents exactly the client query the live test runs', () => {
    expect(section).toContain(`\n${RECOMMENDATION_QUERY}\n`);
  });

  it('lists every recorded series and every alert of the bundle', () => {
    const records = [...new Set(ours.groups.flatMap((g) => g.rules.map((r) => r.record!)))];
    for (const name of records.filter((n) => !n.startsWith('ai:threshold:'))) expect([name, section.includes(`\`${name}`)]).toEqual([name, true]);
    for (const g of ourAlerts.groups) for (const r of g.rules) expect(section).toContain(`| \`${r.alert}\` |`);
  });
});
