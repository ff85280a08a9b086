/**
 * rules/config/ai-dispatcher.yml and `npm run rules`: the committed rules are exactly what the default
 * configuration gives (drift fails here), a bad configuration is refused with a message that says where,
 * and the generator rewrites only its marked blocks, leaving every other byte of the files as it is.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { blockNames, replaceBlock } from '../../scripts/rules/blocks';
import { RulesConfigError, loadRulesConfig, parseRulesConfig } from '../../scripts/rules/config';
import { ALERTS_FILE, CONFIG_FILE, RULES_FILE, renderAlerts, renderRules } from '../../scripts/rules/render';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const defaults = () => loadRulesConfig(path.join(ROOT, CONFIG_FILE));

function problems(text: string): string[] {
  try {
    parseRulesConfig(text);
  } catch (err) {
    if (err instanceof RulesConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the committed rules are the output of the default configuration', () => {
  it('rules/ai-dispatcher.rules.yml has the three generated blocks, each as the configuration gives it', () => {
    const text = read(RULES_FILE);
    expect(blockNames(text)).toEqual(['inventory', 'thresholds', 'tables']);
    // On failure: run `npm run rules` (or edit rules/config/ai-dispatcher.yml instead of the block).
    expect(renderRules(defaults(), text)).toBe(text);
  });

  it('rules/ai-dispatcher.alerts.yml has every runbook_url from the configured pattern', () => {
    const text = read(ALERTS_FILE);
    expect(renderAlerts(defaults(), text)).toBe(text);
  });

  it('the drift check fails when a generated line was edited by hand', () => {
    const text = read(RULES_FILE).replace("{record: ai:threshold:node_load1, expr: '4'}", "{record: ai:threshold:node_load1, expr: '5'}");
    expect(text).not.toBe(read(RULES_FILE));
    expect(renderRules(defaults(), text)).toBe(read(RULES_FILE));
  });

  it('`npm run rules -- --check` agrees (the command CI and users run)', () => {
    const res = spawnSync('npx', ['tsx', 'scripts/rules/main.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: res.status, out: res.stdout + res.stderr }).toEqual({ status: 0, out: expect.stringContaining('up to date') });
  });
});

describe('a changed configuration', () => {
  it('changes only the generated lines: everything else stays byte for byte', () => {
    const config = defaults();
    config.thresholds.node_load1 = 6;
    config.recommendation.optimal_performance.high.analysis.models = ['llama3.2:3b', 'phi3:mini'];
    config.runbookUrlPattern = 'https://runbooks.example.org/ai/%s';
    const before = read(RULES_FILE);
    const after = renderRules(config, before);
    const outside = (t: string) => t.replace(/# ---- BEGIN GENERATED (\w+)[\s\S]*?# ---- END GENERATED \1 ----/g, '<$1>');
    expect(outside(after)).toBe(outside(before));
    expect(after).toContain("{record: ai:threshold:node_load1, expr: '6'}");
    expect(before).toMatch(/complexity: high, +task_type: analysis, +model: 'qwen2\.5:7b'/);
    expect(after).not.toMatch(/complexity: high, +task_type: analysis, +model: 'qwen2\.5:7b'/);
    const alerts = renderAlerts(config, read(ALERTS_FILE));
    expect(alerts).toContain("runbook_url: 'https://runbooks.example.org/ai/pendingaiworkflows'");
    expect(alerts.replace(/runbook_url: .*/g, '')).toBe(read(ALERTS_FILE).replace(/runbook_url: .*/g, ''));
  });

  it('timeouts: one row per branch with the timeout most of its pairs use, and a row for each other pair', () => {
    const config = defaults();
    for (const c of ['low', 'medium'] as const) for (const t of ['analysis', 'general'] as const) config.recommendation.optimal_performance[c][t].timeoutSeconds = 60;
    config.recommendation.queue_management.low.analysis.timeoutSeconds = 45;
    const rows = renderRules(config, read(RULES_FILE))
      .split('\n')
      .filter((l) => /record: ai:config:(branch|timeout),/.test(l))
      .map((l) => l.replace(/ +/g, ' ').trim());
    expect(rows).toEqual([
      "- {record: ai:config:branch, expr: '1', labels: {priority: resource_conservation, timeout_seconds: '15'}}",
      "- {record: ai:config:branch, expr: '2', labels: {priority: metrics_unavailable, timeout_seconds: '15'}}",
      "- {record: ai:config:branch, expr: '3', labels: {priority: queue_management, timeout_seconds: '20'}}",
      "- {record: ai:config:branch, expr: '4', labels: {priority: optimal_performance, timeout_seconds: '60'}}",
      "- {record: ai:config:timeout, expr: '3', labels: {priority: queue_management, complexity: low, task_type: analysis, timeout_seconds: '45'}}",
    ]);
  });

  it('another threshold (for a rule someone adds) becomes ai:threshold:<name>', () => {
    const config = defaults();
    config.thresholds.warmup_horizon_seconds = 600;
    expect(renderRules(config, read(RULES_FILE))).toContain("{record: ai:threshold:warmup_horizon_seconds, expr: '600'}");
  });

  it('with 20 models, the inventory selectors name them all, as exact matches', () => {
    const config = defaults();
    for (let i = 0; i < 17; i++) config.models[`extra-${i}.q4:7b`] = { temperature: 0.5, numPredict: 100 };
    const text = renderRules(config, read(RULES_FILE));
    expect(text).toContain('extra-16\\\\.q4:7b');
    expect(text.match(/label_replace\(vector\(0\), "model"/g)).toHaveLength(2 * 20);
  });
});

describe('a bad configuration is refused with every problem and where it is', () => {
  const base = read(CONFIG_FILE);

  it('accepts the default file', () => {
    expect(problems(base)).toEqual([]);
  });

  it('a model without generation options, a model twice in a list, an unknown fallback model', () => {
    const text = base
      .replace('analysis: [phi3:mini, llama3.2:3b], general: [phi3:mini, llama3.2:3b]}\n  metrics_unavailable', 'analysis: [phi3:mini, mistral:7b], general: [phi3:mini, phi3:mini]}\n  metrics_unavailable')
      .replace('  model: phi3:mini\n', '  model: gemma2:2b\n');
    expect(problems(text)).toEqual([
      'recommendation.resource_conservation.high.analysis: model "mistral:7b" has no entry under models (its generation options)',
      'recommendation.resource_conservation.high.general: model "phi3:mini" is listed more than once',
      'fallback.model: model "gemma2:2b" has no entry under models',
    ]);
  });

  it('a missing threshold, a misspelt key, a wrong type, a relative runbook URL, an empty list', () => {
    const text = base
      .replace('  node_load1: 4 ', '  node_lod1: 4 ')
      .replace('runbook_url_pattern: https://github.com/ai-dispatcher/ai-dispatcher/blob/main/rules/runbook.md#%s', 'runbook_url_pattern: rules/runbook.md#%s')
      .replace('  timeout_seconds: 60\n', '  timeout_secs: 60\n')
      .replace('num_predict: 500}', 'num_predict: many}')
      .replace('low:    {analysis: [phi3:mini, llama3.2:3b]', 'low:    {analysis: []'); // the first: resource_conservation
    expect(problems(text).sort()).toEqual(
      [
        'runbook_url_pattern: must be an absolute http(s) URL containing %s once (the alert name in lower case)',
        'thresholds: missing key "node_load1"',
        'models.phi3:mini.num_predict: must be integer',
        'recommendation.resource_conservation.low.analysis: must be a list of model names, or {models: [...], timeout_seconds: N}',
        'fallback: unknown key "timeout_secs"',
        'fallback: missing key "timeout_seconds"',
      ].sort(),
    );
  });

  it('a list of more than 99 models (the model map holds two digits per place)', () => {
    const names = Array.from({ length: 100 }, (_, i) => `m${i}:1b`);
    const text = base
      .replace('models:\n', `models:\n${names.map((n) => `  ${n}: {temperature: 0.5, num_predict: 100}\n`).join('')}`)
      .replace('low:    {analysis: [phi3:mini, llama3.2:3b]', `low:    {analysis: [${names.join(', ')}]`);
    expect(problems(text)).toEqual(['recommendation.resource_conservation.low.analysis: must be a list of model names, or {models: [...], timeout_seconds: N}']);
    expect(problems(text.replace(`${names[99]}]`, ']').replace(', ]', ']'))).toEqual([]);
  });

  it('not YAML at all', () => {
    expect(problems('models: [unclosed')[0]).toMatch(/^not valid YAML/);
  });

  it('the command refuses it and writes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-rules-config-'));
    try {
      const bad = path.join(dir, 'config.yml');
      fs.writeFileSync(bad, base.replace('  model: phi3:mini\n', '  model: gemma2:2b\n'));
      const rules = path.join(dir, 'rules.yml');
      const alerts = path.join(dir, 'alerts.yml');
      fs.copyFileSync(path.join(ROOT, RULES_FILE), rules);
      fs.writeFileSync(alerts, read(ALERTS_FILE).replace(/runbook_url: .*/, 'runbook_url: old'));
      const res = spawnSync('npx', ['tsx', 'scripts/rules/main.ts', '--config', bad, '--rules', rules, '--alerts', alerts], { cwd: ROOT, encoding: 'utf8' });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('fallback.model: model "gemma2:2b" has no entry under models');
      expect(fs.readFileSync(rules, 'utf8')).toBe(read(RULES_FILE));
      expect(fs.readFileSync(alerts, 'utf8')).toContain('runbook_url: old');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('generated blocks', () => {
  it('refuses a file whose markers are missing or doubled, rather than guessing', () => {
    expect(() => replaceBlock('groups: []\n', 'tables', 'note', ['x'])).toThrow(/markers of generated block "tables" are missing/);
    const twice = '  # ---- BEGIN GENERATED t: a ----\n  # ---- END GENERATED t ----\n  # ---- BEGIN GENERATED t: a ----\n  # ---- END GENERATED t ----\n';
    expect(() => replaceBlock(twice, 't', 'note', ['x'])).toThrow(/appears twice/);
  });

  it('indents the lines like the BEGIN marker', () => {
    const text = 'a\n    # ---- BEGIN GENERATED t: old ----\n    old\n    # ---- END GENERATED t ----\nb\n';
    expect(replaceBlock(text, 't', 'new', ['x', '', 'y'])).toBe(
      'a\n    # ---- BEGIN GENERATED t: new ----\n    x\n\n    y\n    # ---- END GENERATED t ----\nb\n',
    );
  });
});
