/** Every recording rule of rules/ai-dispatcher-usage.rules.yml is asserted by a promtool test. */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '../..');
const RULES = path.join(ROOT, 'rules/ai-dispatcher-usage.rules.yml');
const TESTS = ['test/rules/usage.test.yml', 'test/rules/usage-bundle.test.yml'].map((f) => path.join(ROOT, f));

interface RuleFile {
  groups: { rules: { record?: string }[] }[];
}
interface TestFile {
  rule_files: string[];
  tests: { promql_expr_test?: { expr: string; exp_samples: unknown[] }[] }[];
}

const records = (yaml.load(fs.readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.record!));
const testFiles = TESTS.map((file) => yaml.load(fs.readFileSync(file, 'utf8')) as TestFile);
const assertions = testFiles.flatMap((f) => f.tests.flatMap((t) => t.promql_expr_test ?? []));

test('the usage test files load the usage rules', () => {
  for (const file of testFiles) expect(file.rule_files).toContain('../../rules/ai-dispatcher-usage.rules.yml');
});

test.each(records)('%s is asserted with expected samples by a promtool test', (record) => {
  const pattern = new RegExp(`${record.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w:])`);
  const mentioning = assertions.filter((a) => pattern.test(a.expr));
  expect(mentioning.some((a) => a.exp_samples.length > 0)).toBe(true);
});
