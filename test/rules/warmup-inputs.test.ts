/**
 * test/rules/warmup.test.yml and warmup-forecast.test.yml feed the warm-up rules (and the alerts) with recorded series instead of loading
 * every rule over 8 days (too slow for promtool). This keeps those inputs honest: each is a series the
 * bundle really records, and the warm-up tunables have the values rules/config/ai-dispatcher.yml gives.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '..', '..');
interface RuleFile {
  groups: { name: string; interval?: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}
interface TestFile {
  rule_files: string[];
  tests: { name: string; input_series: { series: string; values: string }[] }[];
}

const load = <T>(file: string) => yaml.load(fs.readFileSync(path.join(ROOT, file), 'utf8')) as T;
const unitTests = load<TestFile>('test/rules/warmup.test.yml');
const forecastTests = load<TestFile>('test/rules/warmup-forecast.test.yml');
const config = load<{ thresholds: Record<string, number> }>('rules/config/ai-dispatcher.yml');
const recorded = new Set(
  fs
    .readdirSync(path.join(ROOT, 'rules'))
    .filter((f) => f.endsWith('.rules.yml'))
    .flatMap((f) => load<RuleFile>(`rules/${f}`).groups.flatMap((g) => g.rules.map((r) => r.record)))
    .filter((r): r is string => r !== undefined),
);

describe('the inputs of the warm-up promtool tests', () => {
  const inputs = [...unitTests.tests, ...forecastTests.tests].flatMap((t) => t.input_series.map((s) => ({ test: t.name, ...s })));

  it('loads the warm-up rules and the real alerts file', () => {
    expect(unitTests.rule_files).toEqual(['../../rules/ai-dispatcher-warmup.rules.yml', '../../rules/ai-dispatcher.alerts.yml']);
    expect(forecastTests.rule_files).toEqual(['../../rules/ai-dispatcher-warmup.rules.yml']);
  });

  it('are series the bundle records', () => {
    expect(inputs.length).toBeGreaterThan(10);
    for (const input of inputs) {
      const name = input.series.replace(/\{.*$/, '');
      expect([input.series, recorded.has(name)]).toEqual([input.series, true]);
    }
  });

  it('give every threshold the value of rules/config/ai-dispatcher.yml', () => {
    const thresholds = inputs.filter((i) => i.series.startsWith('ai:threshold:'));
    expect(thresholds.map((t) => t.series)).toEqual(expect.arrayContaining(['ai:threshold:warmup_horizon_seconds', 'ai:threshold:warmup_min_days']));
    for (const t of thresholds) {
      const name = t.series.slice('ai:threshold:'.length);
      const value = Number(/^([\d.e+]+)x\d+$/.exec(t.values)?.[1]);
      expect([t.test, name, value]).toEqual([t.test, name, config.thresholds[name]]);
    }
  });

  it('the warm-up reads only ai:* series, once a minute', () => {
    const warmup = load<RuleFile>('rules/ai-dispatcher-warmup.rules.yml');
    expect(warmup.groups.map((g) => [g.name, g.interval])).toEqual([['ai-dispatcher-warmup', '1m']]);
    for (const r of warmup.groups[0].rules) expect([r.record, r.expr]).toEqual([r.record, expect.not.stringMatching(/\b(node|ollama|container|n8n)_[a-z_]+\{/)]);
  });
});
