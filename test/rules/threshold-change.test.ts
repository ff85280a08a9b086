/**
 * "Configurable in one place": changing the rule ai:threshold:node_load1 (and nothing else)
 * changes the decision. Runs the real promtool on a copy of the bundle with one edited value.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';

const execFileAsync = promisify(execFile);
const RULES = path.resolve(__dirname, '..', '..', 'rules', 'ai-dispatcher.rules.yml');

interface RuleFile {
  groups: { name: string; rules: { record?: string; expr: string }[] }[];
}

/** A promtool test: a host with load 3.5, otherwise healthy; expects `priority` for all six pairs. */
function unitTest(priority: string): string {
  return yaml.dump({
    rule_files: ['rules.yml'],
    evaluation_interval: '15s',
    group_eval_order: ['ai-dispatcher'],
    tests: [
      {
        interval: '15s',
        input_series: [
          { series: 'up{job="node", instance="h:9100"}', values: '1x20' },
          { series: 'node_memory_MemAvailable_bytes{job="node", instance="h:9100"}', values: '8589934592x20' },
          { series: 'node_load1{job="node", instance="h:9100"}', values: '3.5x20' },
          { series: 'node_cpu_seconds_total{job="node", instance="h:9100", cpu="0", mode="idle"}', values: '0+7.5x20' },
          { series: 'node_cpu_seconds_total{job="node", instance="h:9100", cpu="0", mode="user"}', values: '0+7.5x20' },
          { series: 'node_time_seconds{job="node", instance="h:9100"}', values: '1700000000+15x20' },
        ],
        promql_expr_test: [
          {
            expr: 'count by (priority) (ai:recommended_model)',
            eval_time: '2m',
            exp_samples: [{ labels: `{priority="${priority}"}`, value: 6 }],
          },
        ],
      },
    ],
  });
}

async function promtoolTest(rules: RuleFile, expectedPriority: string): Promise<{ ok: boolean; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-threshold-'));
  try {
    fs.writeFileSync(path.join(dir, 'rules.yml'), yaml.dump(rules, { lineWidth: -1 }));
    fs.writeFileSync(path.join(dir, 'case.test.yml'), unitTest(expectedPriority));
    const { stdout, stderr } = await execFileAsync('promtool', ['test', 'rules', 'case.test.yml'], { cwd: dir });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function withLoadThreshold(value: number): RuleFile {
  const rules = yaml.load(fs.readFileSync(RULES, 'utf8')) as RuleFile;
  const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.record === 'ai:threshold:node_load1')!;
  rule.expr = `vector(${value})`;
  return rules;
}

describe('a changed threshold takes effect', () => {
  it('load 3.5 is optimal_performance with the default load threshold (4)', async () => {
    const result = await promtoolTest(withLoadThreshold(4), 'optimal_performance');
    expect(result).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  it('load 3.5 is resource_conservation once ai:threshold:node_load1 is 3', async () => {
    const result = await promtoolTest(withLoadThreshold(3), 'resource_conservation');
    expect(result).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  it('the check can fail: with threshold 3 the load is no longer optimal_performance', async () => {
    const result = await promtoolTest(withLoadThreshold(3), 'optimal_performance');
    expect(result.ok).toBe(false);
    expect(result.output).toContain('resource_conservation');
  });
});
