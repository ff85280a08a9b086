/**
 * Where every series a dashboard may query comes from: recording rules in rules/*.yml, the exporter
 * inputs those rules read (the documented input selectors), the receiver's metrics in the metrics
 * table of receiver/README.md, and what Prometheus itself produces (ALERTS, up).
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { metricNames } from './promql';

const ROOT = path.resolve(__dirname, '../..');
export const RULES_DIR = path.join(ROOT, 'rules');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface RuleFile {
  file: string;
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

export function ruleFiles(): RuleFile[] {
  if (!fs.existsSync(RULES_DIR)) return [];
  return fs
    .readdirSync(RULES_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => ({
      file: path.join(RULES_DIR, name),
      ...(yaml.load(fs.readFileSync(path.join(RULES_DIR, name), 'utf8')) as Omit<RuleFile, 'file'>),
    }));
}

export function allRules(): Rule[] {
  return ruleFiles().flatMap((file) => file.groups.flatMap((group) => group.rules));
}

export function recordedNames(): Set<string> {
  return new Set(allRules().flatMap((rule) => (rule.record ? [rule.record] : [])));
}

export function alertNames(): Set<string> {
  return new Set(allRules().flatMap((rule) => (rule.alert ? [rule.alert] : [])));
}

/** Metric names the rules read that no rule records: the exporter inputs. */
export function inputNames(): Set<string> {
  const recorded = recordedNames();
  const inputs = new Set<string>();
  for (const rule of allRules()) {
    for (const name of metricNames(rule.expr)) if (!recorded.has(name)) inputs.add(name);
  }
  return inputs;
}

/** Receiver metrics from the metrics table of receiver/README.md; a histogram gives _bucket, _sum and _count. */
export function receiverNames(): Set<string> {
  const readme = fs.readFileSync(path.join(ROOT, 'receiver', 'README.md'), 'utf8');
  const names = new Set<string>();
  for (const match of readme.matchAll(/^\| `(ai_dispatcher_\w+)` \| (\w+)/gm)) {
    const [, name, type] = match;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

/** Series Prometheus writes itself for every scrape target and alerting rule. */
export const PROMETHEUS_NAMES = new Set(['ALERTS', 'ALERTS_FOR_STATE', 'up']);

export type Source = 'recording rule' | 'rule input' | 'receiver' | 'prometheus';

export function sourceOf(name: string): Source | undefined {
  if (recordedNames().has(name)) return 'recording rule';
  if (receiverNames().has(name)) return 'receiver';
  if (PROMETHEUS_NAMES.has(name)) return 'prometheus';
  if (inputNames().has(name)) return 'rule input';
  return undefined;
}
