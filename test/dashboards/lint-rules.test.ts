/** Each lint rule catches the mistake it is there for, in an otherwise clean copy of a real dashboard. */
import { dashboardFiles, dataPanels, type Dashboard, type Panel } from './dashboard-files';
import { LINT_RULES } from './lint-rules';

const receiver = dashboardFiles().find((f) => f.file === 'ai-dispatcher-receiver.json')!.dashboard;

/** A deep copy of the receiver dashboard, changed by `mutate`. */
function broken(mutate: (d: Dashboard, firstPanel: Panel) => void): Dashboard {
  const copy = JSON.parse(JSON.stringify(receiver)) as Dashboard;
  mutate(copy, dataPanels(copy).find((p) => (p.targets ?? []).some((t) => /rate\(/.test(t.expr ?? '')))!);
  return copy;
}

test('the unchanged copy is clean, so every problem below comes from its mutation', () => {
  for (const check of Object.values(LINT_RULES)) expect(check(broken(() => {}))).toEqual([]);
});

test.each([
  ['identity', 'a generated uid', (d: Dashboard): void => {
    d.uid = 'Xy7_Q9Z!';
  }],
  ['identity', 'a title without the prefix', (d: Dashboard): void => {
    d.title = 'Receiver';
  }],
  ['identity', 'no tag', (d: Dashboard): void => {
    d.tags = [];
  }],
  ['identity', 'a numeric id', (d: Dashboard): void => {
    d.id = 7;
  }],
  ['datasource', 'a panel with a fixed data source', (_d: Dashboard, p: Panel): void => {
    p.datasource = { type: 'prometheus', uid: 'abc' };
  }],
  ['datasource', 'a target with a fixed data source', (_d: Dashboard, p: Panel): void => {
    p.targets![0].datasource = { type: 'prometheus', uid: 'abc' };
  }],
  ['datasource', 'no datasource variable', (d: Dashboard): void => {
    d.templating.list = d.templating.list.filter((v) => v.name !== 'datasource');
  }],
  ['panels', 'a panel without description', (_d: Dashboard, p: Panel): void => {
    delete p.description;
  }],
  ['panels', 'a panel without unit', (_d: Dashboard, p: Panel): void => {
    delete p.fieldConfig!.defaults!.unit;
  }],
  ['panels', 'a panel without title', (_d: Dashboard, p: Panel): void => {
    p.title = ' ';
  }],
  ['variables', 'an undefined variable', (_d: Dashboard, p: Panel): void => {
    p.targets![0].expr = p.targets![0].expr!.replace('$job', '$cluster');
  }],
  ['jobInstance', 'a receiver series without $instance', (_d: Dashboard, p: Panel): void => {
    p.targets![0].expr = p.targets![0].expr!.replace(', instance=~"$instance"', '');
  }],
  ['promql', 'a query that does not parse', (_d: Dashboard, p: Panel): void => {
    p.targets![0].expr = `${p.targets![0].expr!})`;
  }],
  ['rateInterval', 'a fixed rate window', (_d: Dashboard, p: Panel): void => {
    p.targets![0].expr = p.targets![0].expr!.replace('$__rate_interval', '5m');
  }],
  ['orphanSeries', 'a series nothing produces', (_d: Dashboard, p: Panel): void => {
    p.targets![0].expr = 'ai_model_selection_reasons';
  }],
] as const)('the %s rule catches %s', (rule, _what, mutate) => {
  const dashboard = broken(mutate);
  expect(LINT_RULES[rule](dashboard).length).toBeGreaterThan(0);
});
