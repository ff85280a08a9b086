/**
 * The recommendation with the model inventory (issue 18) against its floor, in one run: two live
 * Prometheus 2.42 side by side, scraping the same exporters at the same interval, one loading today's
 * rules (rules/ai-dispatcher.rules.yml + alerts), the other the bundle before the inventory (from git,
 * default dbcf64a). Per bundle: evaluation time per group and per cycle (the sum of the groups, median of
 * prometheus_rule_group_last_duration_seconds sums), samples per evaluation; then the client's cost of
 * one recommendation (the documented query for one pair, against the original design's 13 queries) on
 * both. Phases: 1 host (this machine's node exporter), then HOSTS hosts (stand-ins), each after the same
 * warm-up (a full 5 min lookback by default).
 *
 *   npx tsx scripts/bench/inventory-rules-bench.ts --models 3  [--hosts 20] [--seconds 60] [--warmup 300] [--interval 1] [--baseline dbcf64a]
 *   npx tsx scripts/bench/inventory-rules-bench.ts --models 20 --interval 15
 *   npx tsx scripts/bench/inventory-rules-bench.ts --models 3 --config my-config.yml   (rules generated from another configuration)
 *
 * --models: how many models the gateway stand-in reports installed (the 3 of the default configuration
 * first, then others; 2 of them loaded). Goals (issue 18): cycle <= 1.2x the floor's with 3 models;
 * < 1 % of one core at a 15 s interval with 20 hosts and 20 models (cycle / interval); the client query's
 * cost ratio to the 13 queries unchanged.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRulesConfig } from '../rules/config';
import { renderAlerts, renderRules } from '../rules/render';
import { PrometheusServer, REPO_ROOT, TestExporter, startPrometheus, startTestExporter } from '../harness/prometheus';
import {
  ORIGINAL_DESIGN_QUERIES,
  PAIR_QUERY,
  median,
  parseGroupMetrics,
  startHost,
  startNodeExporter,
  startServices,
  timed,
  viaFetch,
  type GroupStats,
} from './rules-bench';

const BUNDLE = ['rules/ai-dispatcher.rules.yml', 'rules/ai-dispatcher.alerts.yml'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** The gateway's inventory series (job="ollama" target of its own): `count` models installed, two loaded. */
async function startInventory(count: number): Promise<TestExporter> {
  const e = await startTestExporter();
  const models = ['phi3:mini', 'llama3.2:3b', 'qwen2.5:7b', ...Array.from({ length: Math.max(0, count - 3) }, (_, i) => `extra${i}:7b`)].slice(0, count);
  e.set('ollama_up', 1);
  models.forEach((model, i) => e.set('ollama_model_installed_bytes', 2e9 + i * 1e8, { model }));
  for (const model of models.slice(0, 2)) {
    e.set('ollama_model_loaded_bytes', 3e9, { model });
    e.set('ollama_model_loaded_vram_bytes', 0, { model });
  }
  return e;
}

interface Side {
  name: string;
  prom: PrometheusServer;
}

async function collect(sides: Side[], seconds: number) {
  const stats = sides.map(() => ({ groups: new Map<string, GroupStats>(), sums: [] as number[] }));
  for (let i = 0; i < seconds; i++) {
    for (let k = 0; k < sides.length; k++) parseGroupMetrics(await sides[k].prom.metrics(), stats[k].groups, stats[k].sums);
    await sleep(1000);
  }
  return stats;
}

function report(title: string, sides: Side[], stats: Awaited<ReturnType<typeof collect>>, intervalSeconds: number): number[] {
  console.log(`\n${title}`);
  const cycles: number[] = [];
  sides.forEach((side, k) => {
    let samples = 0;
    console.log(`  ${side.name}`);
    for (const [group, st] of stats[k].groups) {
      samples += median(st.samples);
      console.log(`    ${group.padEnd(34)} ${median(st.duration).toFixed(3).padStart(7)} ms   ${String(median(st.samples)).padStart(4)} samples`);
    }
    const cycle = median(stats[k].sums);
    cycles.push(cycle);
    console.log(`    ${'cycle (median of the sums)'.padEnd(34)} ${cycle.toFixed(3).padStart(7)} ms   ${String(samples).padStart(4)} samples   ${((cycle / (intervalSeconds * 1000)) * 100).toFixed(3)} % of one core at ${intervalSeconds} s`);
  });
  console.log(`  cycle ratio ${sides[1].name} / ${sides[0].name}: ${(cycles[1] / cycles[0]).toFixed(2)}x`);
  return cycles;
}

async function main() {
  const models = Number(arg('models', '3'));
  const hosts = Number(arg('hosts', '20'));
  const seconds = Number(arg('seconds', '60'));
  const warmup = Number(arg('warmup', '300'));
  const intervalSeconds = Number(arg('interval', '1'));
  const baseline = arg('baseline', 'dbcf64a');
  const interval = `${intervalSeconds}s`;
  const readyTimeoutMs = 30_000 + 4 * intervalSeconds * 1000;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-inventory-bench-'));
  const floorFiles = BUNDLE.map((f) => {
    const file = path.join(tmp, `floor-${path.basename(f)}`);
    fs.writeFileSync(file, execFileSync('git', ['show', `${baseline}:${f}`], { cwd: REPO_ROOT, encoding: 'utf8' }));
    return file;
  });
  // --config: today's files with their generated blocks rendered from another configuration (e.g. other lists).
  const configFile = arg('config', '');
  const CURRENT = configFile
    ? BUNDLE.map((f, i) => {
        const config = loadRulesConfig(path.resolve(configFile));
        const text = fs.readFileSync(path.join(REPO_ROOT, f), 'utf8');
        const file = path.join(tmp, `config-${path.basename(f)}`);
        fs.writeFileSync(file, i === 0 ? renderRules(config, text) : renderAlerts(config, text));
        return file;
      })
    : BUNDLE;
  const hostExporters: { address: string; close(): Promise<void> }[] = [await startNodeExporter()];
  const services = await startServices();
  const inventory = await startInventory(models);
  const scrapeConfigs = (n: number) => [
    { job: 'node', targets: hostExporters.slice(0, n).map((e) => e.address) },
    { job: 'ollama', targets: [services.address, inventory.address] },
    { job: 'cadvisor', targets: [services.address] },
    { job: 'n8n', targets: [services.address] },
    { job: 'ai-dispatcher', targets: [services.address] },
  ];
  const start = (ruleFiles: string[]) => startPrometheus({ ruleFiles, scrapeConfigs: scrapeConfigs(1), scrapeInterval: interval, evaluationInterval: interval });
  const sides: Side[] = [
    { name: `floor (${baseline})`, prom: await start(floorFiles) },
    { name: configFile ? `with inventory (${path.basename(configFile)})` : 'with inventory', prom: await start(CURRENT) },
  ];
  try {
    console.log(`${models} models installed, ${interval} scrape and evaluation, ${warmup} s warm-up, ${seconds} s per phase`);
    for (const side of sides)
      await side.prom.waitFor(async () => (await side.prom.query('count(ai:recommended_model_options)'))[0]?.value === 6 && (await side.prom.query('ai:node_cpu_utilisation:max_rate2m')).length === 1, {
        timeoutMs: readyTimeoutMs,
        what: `the recommendation (${side.name})`,
      });
    const inventoryKnown = await sides[1].prom.query('ai:input_available{input="model_inventory"}');
    if (inventoryKnown[0]?.value !== 1) throw new Error('the inventory is not available to the rules: the bench would not measure it');

    await sleep(warmup * 1000);
    const one = await collect(sides, seconds);
    report(`1 host, ${models} models:`, sides, one, intervalSeconds);

    // The client's cost: the documented query for one pair against the 13 queries, on each side, interleaved.
    const runs: Record<string, number[]> = {};
    const steps = sides.flatMap((side) => [
      async () => (runs[`pair ${side.name}`] ??= []).push(await timed(viaFetch, side.prom.url, [PAIR_QUERY])),
      async () => (runs[`13 ${side.name}`] ??= []).push(await timed(viaFetch, side.prom.url, ORIGINAL_DESIGN_QUERIES)),
    ]);
    const deadline = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < deadline; i++) {
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]();
      await sleep(20);
    }
    console.log(`\nClient cost of one recommendation (fetch, medians over ${runs[`pair ${sides[0].name}`].length} rounds):`);
    for (const side of sides) {
      const pair = median(runs[`pair ${side.name}`]);
      const thirteen = median(runs[`13 ${side.name}`]);
      console.log(`  ${side.name.padEnd(20)} one pair ${pair.toFixed(2)} ms, 13 queries ${thirteen.toFixed(2)} ms, ratio ${(thirteen / pair).toFixed(1)}x`);
    }

    for (let i = 1; i < hosts; i++) hostExporters.push(await startHost());
    for (const side of sides) {
      await side.prom.restart({ scrapeConfigs: scrapeConfigs(hosts) });
      await side.prom.waitFor(async () => (await side.prom.query('count(up{job="node"} == 1)'))[0]?.value === hosts, { timeoutMs: readyTimeoutMs, what: `${hosts} hosts up` });
    }
    await sleep(warmup * 1000);
    const many = await collect(sides, seconds);
    report(`${hosts} hosts, ${models} models:`, sides, many, intervalSeconds);
  } finally {
    for (const side of sides) await side.prom.stop();
    for (const e of [...hostExporters, services, inventory]) await e.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
