/**
 * Benchmark of rules/ai-dispatcher-usage.rules.yml with a full window of history: the savings group
 * reads 1 day, the recommendation group 1 hour. One day of 15 s samples of the series those windows
 * read is backfilled (promtool tsdb create-blocks-from openmetrics), then a real Prometheus evaluates
 * the usage rules every second; reports each group's median and max evaluation time
 * (prometheus_rule_group_last_duration_seconds) and samples per evaluation.
 *
 *   npx tsx scripts/bench/usage-rules-bench.ts [--seconds 30] [--targets 1]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPrometheus } from '../harness/prometheus';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SECONDS = arg('seconds', 30);
const TARGETS = arg('targets', 1);
const STEP = 15;
const GiB = 2 ** 30;

/** One day of the series the usage rules read over their windows, ending two minutes ago. */
function history(): string {
  const end = Math.floor(Date.now() / 1000) - 120;
  const start = end - 86_400;
  const lines: string[] = [];
  const gauge = (name: string, samples: (t: number) => Array<[string, number]>) => {
    lines.push(`# TYPE ${name} gauge`);
    const byLabels = new Map<string, string[]>();
    for (let t = start; t <= end; t += STEP) {
      for (const [labels, value] of samples(t)) {
        if (!byLabels.has(labels)) byLabels.set(labels, []);
        byLabels.get(labels)!.push(`${name}${labels} ${value} ${t}`);
      }
    }
    for (const series of byLabels.values()) lines.push(...series);
  };
  const targets = Array.from({ length: TARGETS }, (_, i) => (i === 0 ? 'ollama' : `target${i}`));
  // Running every other hour.
  gauge('target:ai_dispatcher_target_running:max', (t) => targets.map((x) => [`{target="${x}"}`, Math.floor(t / 3600) % 2]));
  gauge('target:ai_dispatcher_target_running:timestamp', (t) => targets.map((x) => [`{target="${x}"}`, t]));
  gauge('ai:ollama_container_memory_working_set_bytes:max', (t) => (Math.floor(t / 3600) % 2 ? [['', 1.5 * GiB]] : []));
  gauge('model:ai_recommended_model:count', () => ['phi3:mini', 'llama3.2:3b', 'qwen2.5:7b'].map((m) => [`{model="${m}"}`, 2]));
  gauge('priority:ai_recommended_model:count', () =>
    ['resource_conservation', 'metrics_unavailable', 'queue_management', 'optimal_performance'].map((p) => [
      `{priority="${p}"}`,
      p === 'optimal_performance' ? 6 : 0,
    ]),
  );
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usage-rules-bench-'));
  const dataDir = path.join(dir, 'data');
  try {
    fs.writeFileSync(path.join(dir, 'day.om'), history());
    execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'day.om'), dataDir], { stdio: 'ignore' });
    const prom = await startPrometheus({ ruleFiles: ['rules/ai-dispatcher-usage.rules.yml'], dataDir, evaluationInterval: '1s' });
    try {
      const durations: Record<string, number[]> = {};
      const samples: Record<string, number> = {};
      await new Promise((r) => setTimeout(r, 3000));
      for (let i = 0; i < SECONDS; i++) {
        const text = await prom.metrics();
        for (const m of text.matchAll(/^prometheus_rule_group_last_duration_seconds\{rule_group="[^;]*;([^"]+)"\} (\S+)$/gm)) {
          (durations[m[1]] ??= []).push(Number(m[2]) * 1000);
        }
        for (const m of text.matchAll(/^prometheus_rule_group_last_evaluation_samples\{rule_group="[^;]*;([^"]+)"\} (\S+)$/gm)) {
          samples[m[1]] = Number(m[2]);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      const stopped = await prom.query('target:ai_dispatcher_target_stopped:ratio_avg1d');
      console.log(`usage rules, 1 day of ${STEP} s history, ${TARGETS} target(s), ${SECONDS} evaluations at 1 s`);
      for (const [group, values] of Object.entries(durations)) {
        console.log(
          `  ${group.padEnd(40)} median ${median(values).toFixed(2)} ms  max ${Math.max(...values).toFixed(2)} ms  samples/eval ${samples[group]}`,
        );
      }
      console.log(`  check: stopped share over the day = ${stopped.map((s) => s.value.toFixed(3)).join(', ')} (about 0.5 expected)`);
    } finally {
      await prom.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
