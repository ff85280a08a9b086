/** The lint helpers themselves: they must catch what the dashboard lint relies on them to catch. */
import { LINT_VALUES, expandVariables, referencedVariables } from './dashboard-files';
import { metricNames, rangeFunctionWindows, selectors, syntaxErrors } from './promql';

describe('syntaxErrors', () => {
  test.each([
    'sum(rate(x[5m])',
    'rate(x[$__rate_interval])',
    'sum by (a (x)',
    'x{job="a"',
    '',
  ])('reports %p', (expr) => {
    expect(syntaxErrors(expr)).not.toEqual([]);
  });

  test.each([
    'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job=~"a|b"}[1m])))',
    'ALERTS{alertname=~"A|B", alertstate="firing"}',
    'max by (target) (ai:x) or on() vector(0)',
  ])('accepts %p', (expr) => {
    expect(syntaxErrors(expr)).toEqual([]);
  });
});

test('expandVariables replaces $x, ${x} and ${x:fmt} and leaves unknown variables', () => {
  const expr = 'rate(x{job=~"$job", instance=~"${instance:regex}", t=~"${target}"}[$__rate_interval]) $nope';
  expect(expandVariables(expr, LINT_VALUES)).toBe(
    `rate(x{job=~"${LINT_VALUES.job}", instance=~"${LINT_VALUES.instance}", t=~"${LINT_VALUES.target}"}[${LINT_VALUES.rateInterval}]) $nope`,
  );
  expect(referencedVariables(expr).sort()).toEqual(['__rate_interval', 'instance', 'job', 'nope', 'target']);
});

test('rangeFunctionWindows finds the window of every rate, irate and increase, subqueries included', () => {
  const expr = 'rate(a[1m]) + irate(b{x="y"}[2m] offset 5m) + increase(c[3m:1m]) + avg_over_time(d[9m])';
  expect(rangeFunctionWindows(expr)).toEqual([
    { fn: 'rate', window: '1m' },
    { fn: 'irate', window: '2m' },
    { fn: 'increase', window: '3m' },
  ]);
});

test('metricNames and selectors see names in every position, __name__ matchers included', () => {
  const expr = 'sum(rate(a_total{job="j"}[1m])) / on() group_left b + {__name__="c", x=~"y"}';
  expect(metricNames(expr).sort()).toEqual(['a_total', 'b', 'c']);
  const found = selectors(expr);
  expect(found.map((s) => s.name)).toEqual(['a_total', 'b', 'c']);
  expect(found[0].matchers.get('job')).toEqual(['=', 'j']);
  expect(found[2].matchers.get('x')).toEqual(['=~', 'y']);
});
