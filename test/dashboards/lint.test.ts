/**
 * The dashboard conventions (Grafana's dashboard linter and the monitoring mixins), as tests: the
 * linter itself cannot be installed here. The rules are in lint-rules.ts; lint-rules.test.ts shows
 * that each one catches what it should.
 */
import { LINT_VALUES, allTargets, dashboardFiles, expandVariables } from './dashboard-files';
import { LINT_RULES } from './lint-rules';
import { alertNames, recordedNames } from './metric-sources';
import { selectors } from './promql';

const files = dashboardFiles();
const targets = allTargets(files);

test('there are the two dashboards', () => {
  expect(files.map((f) => f.file)).toEqual(['ai-dispatcher-receiver.json', 'ai-model-dispatcher.json']);
});

const cases = files.flatMap(({ file, dashboard }) =>
  Object.entries(LINT_RULES).map(([rule, check]) => [file, rule, dashboard, check] as const),
);

test.each(cases)('%s follows the %s rule', (_file, _rule, dashboard, check) => {
  expect(check(dashboard)).toEqual([]);
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
