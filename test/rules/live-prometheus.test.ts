/**
 * The rules bundle on a real Prometheus 2.42 (1 s scrape and evaluation) scraping two test exporters
 * (a node exporter and an Ollama exporter stand-in) over HTTP. The documented client query, sent
 * through the HTTP API, must follow metric changes and give exactly one answer per
 * (complexity, task_type) at every poll, also across restarts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  PrometheusServer,
  RECOMMENDATION_QUERY,
  REPO_ROOT,
  TestExporter,
  startPrometheus,
  startTestExporter,
} from '../../scripts/harness/prometheus';

const CLIENT_QUERY = RECOMMENDATION_QUERY;

/** Real captures of `ai:recommended_model` from a Prometheus 2.42 (test/fixtures/). */
const FIXTURES = path.resolve(__dirname, '../fixtures/prometheus-2.42');
const CONTRACT_QUERY =
  'ai:recommended_model and timestamp(ai:recommended_model) == scalar(max(timestamp(ai:recommended_model)))';

/** The label sets of a query answer or capture, sorted, timestamps and values left out. */
function labelSets(result: { metric: Record<string, string> }[]): string[] {
  return result
    .map((r) =>
      Object.keys(r.metric)
        .sort()
        .map((k) => `${k}=${r.metric[k]}`)
        .join(','),
    )
    .sort();
}
function fixture(name: string): { metric: Record<string, string> }[] {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')).data.result;
}

const RULE_FILES = ['rules/ai-dispatcher.rules.yml', 'rules/ai-dispatcher.alerts.yml'];
const PAIRS = ['low/analysis', 'low/general', 'medium/analysis', 'medium/general', 'high/analysis', 'high/general'];
const GiB = 2 ** 30;

interface Answer {
  pair: string;
  model: string;
  priority: string;
  timeout: string;
  temperature: string;
  numPredict: string;
}

/** A node exporter stand-in: memory, load, the host's clock, and CPU counters that advance with it. */
function simulateHost(exporter: TestExporter, state: { memory: number; load: number; idleShare: number }) {
  const cpu = { idle: 1000, user: 1000, at: Date.now() };
  exporter.onScrape(() => {
    const now = Date.now();
    const elapsed = (now - cpu.at) / 1000;
    cpu.at = now;
    cpu.idle += elapsed * state.idleShare;
    cpu.user += elapsed * (1 - state.idleShare);
    exporter.set('node_cpu_seconds_total', cpu.idle, { cpu: '0', mode: 'idle' }, 'counter');
    exporter.set('node_cpu_seconds_total', cpu.user, { cpu: '0', mode: 'user' }, 'counter');
    exporter.set('node_time_seconds', now / 1000);
    exporter.set('node_memory_MemAvailable_bytes', state.memory);
    exporter.set('node_load1', state.load);
  });
}

describe('the rules bundle on a live Prometheus', () => {
  let node: TestExporter;
  let ollama: TestExporter;
  let prom: PrometheusServer;
  let tmp: string;
  const host = { memory: 8 * GiB, load: 1, idleShare: 0.9 };
  /** Every answer of the client query seen during the test, to check the one-per-pair invariant. */
  const seen: Answer[][] = [];

  async function ask(): Promise<Answer[]> {
    const rows = await prom.query(CLIENT_QUERY);
    const answers = rows.map((r) => ({
      pair: `${r.metric.complexity}/${r.metric.task_type}`,
      model: r.metric.model,
      priority: r.metric.priority,
      timeout: r.metric.timeout_seconds,
      temperature: r.metric.temperature,
      numPredict: r.metric.num_predict,
    }));
    seen.push(answers);
    return answers;
  }

  /** Polls the client query until every pair has `priority`; checks one answer per pair at every poll. */
  async function waitForPriority(priority: string, timeoutMs = 15_000): Promise<Answer[]> {
    return prom.waitFor(
      async () => {
        const answers = await ask();
        return answers.length > 0 && answers.every((a) => a.priority === priority) ? answers : null;
      },
      { timeoutMs, intervalMs: 100, what: `all pairs on ${priority}` },
    );
  }

  function byPair(answers: Answer[]): Record<string, string> {
    return Object.fromEntries(answers.map((a) => [a.pair, `${a.model} ${a.timeout}s t=${a.temperature} n=${a.numPredict}`]));
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-live-rules-'));
    node = await startTestExporter();
    simulateHost(node, host);
    ollama = await startTestExporter();
    ollama.set('ollama_requests_queued', 0);
    prom = await startPrometheus({
      ruleFiles: RULE_FILES,
      scrapeConfigs: [
        { job: 'node', targets: [node.address] },
        { job: 'ollama', targets: [ollama.address] },
      ],
    });
  }, 30_000);

  afterAll(async () => {
    await prom?.stop();
    await node?.close();
    await ollama?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  let answeredOnce = false;
  afterEach(() => {
    // Whatever happened, the client never saw two answers for a pair nor a pair missing, and once
    // Prometheus had answered, it never answered empty again (restarts included).
    for (const answers of seen) {
      if (answers.length === 0 && !answeredOnce) continue;
      answeredOnce = true;
      expect(answers.map((a) => a.pair).sort()).toEqual([...PAIRS].sort());
    }
    seen.length = 0;
  });

  it('answers optimal_performance with timeouts and options for a healthy host', async () => {
    const answers = await waitForPriority('optimal_performance', 25_000);
    expect(byPair(answers)).toEqual({
      'low/analysis': 'phi3:mini 30s t=0.5 n=500',
      'low/general': 'phi3:mini 30s t=0.5 n=500',
      'medium/analysis': 'llama3.2:3b 30s t=0.7 n=1000',
      'medium/general': 'llama3.2:3b 30s t=0.7 n=1000',
      'high/analysis': 'qwen2.5:7b 60s t=0.3 n=2048',
      'high/general': 'qwen2.5:7b 60s t=0.3 n=2048',
    });
    // The contract series is exactly what the real capture of this state shows.
    expect(labelSets(await prom.query(CONTRACT_QUERY))).toEqual(labelSets(fixture('query-recommended_model-optimal_performance.json')));
  }, 30_000);

  it('follows a growing Ollama queue to queue_management', async () => {
    ollama.set('ollama_requests_queued', 5);
    const answers = await waitForPriority('queue_management');
    expect(byPair(answers)).toEqual({
      'low/analysis': 'llama3.2:3b 20s t=0.7 n=1000',
      'low/general': 'phi3:mini 20s t=0.5 n=500',
      'medium/analysis': 'llama3.2:3b 20s t=0.7 n=1000',
      'medium/general': 'phi3:mini 20s t=0.5 n=500',
      'high/analysis': 'llama3.2:3b 20s t=0.7 n=1000',
      'high/general': 'phi3:mini 20s t=0.5 n=500',
    });
    expect(labelSets(await prom.query(CONTRACT_QUERY))).toEqual(labelSets(fixture('query-recommended_model-queue_management.json')));
  }, 20_000);

  it('follows host load above 4 to resource_conservation, which beats the queue', async () => {
    host.load = 6;
    const answers = await waitForPriority('resource_conservation');
    expect(new Set(answers.map((a) => `${a.model} ${a.timeout}s`))).toEqual(new Set(['phi3:mini 15s']));
  }, 20_000);

  it('after a restart whose first decision differs, the client query still gives one answer per pair', async () => {
    // The operator raises the load threshold to 10 and restarts Prometheus. The new process decides
    // optimal_performance at once while the old resource_conservation rows stay visible (no stale
    // markers at shutdown): the plain series shows both, the client query only the new rows.
    ollama.set('ollama_requests_queued', 0);
    const rules = yaml.load(fs.readFileSync(path.join(REPO_ROOT, RULE_FILES[0]), 'utf8')) as {
      groups: { rules: { record?: string; expr: string }[] }[];
    };
    rules.groups.flatMap((g) => g.rules).find((r) => r.record === 'ai:threshold:node_load1')!.expr = 'vector(10)';
    const edited = path.join(tmp, 'ai-dispatcher.rules.yml');
    fs.writeFileSync(edited, yaml.dump(rules, { lineWidth: -1 }));

    await prom.restart({ ruleFiles: [edited, RULE_FILES[1]] });
    let duplicatesSeen = 0;
    const answers = await prom.waitFor(
      async () => {
        const plain = await prom.query('ai:recommended_model');
        duplicatesSeen = Math.max(duplicatesSeen, plain.length);
        const current = await ask();
        return current.length > 0 && current.every((a) => a.priority === 'optimal_performance') ? current : null;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'optimal_performance after the restart' },
    );
    expect(answers).toHaveLength(6);
    // The failure the client query protects against really happened (12 series, as in the fixture).
    expect(duplicatesSeen).toBe(12);
    const stillDuplicated = await prom.query('ai:recommended_model');
    // The same failure as the real capture: the old and the new six side by side.
    expect(labelSets(stillDuplicated)).toEqual(
      labelSets(fixture('query-recommended_model-after-restart-stale-duplicates.json')),
    );
    expect(await ask()).toHaveLength(6);
  }, 30_000);

  it('after a restart with the node exporter down, its last samples do not keep the old decision', async () => {
    await prom.halt();
    node.setDown(true);
    await prom.restart();
    const answers = await waitForPriority('metrics_unavailable');
    expect(new Set(answers.map((a) => a.model))).toEqual(new Set(['phi3:mini']));
    expect(labelSets(await prom.query(CONTRACT_QUERY))).toEqual(labelSets(fixture('query-recommended_model-metrics_unavailable.json')));
    // The exporter's last samples (no stale markers) are still visible, but not used.
    expect((await prom.query('node_load1')).map((s) => s.value)).toEqual([6]);
    expect((await prom.query('up{job="node"}')).map((s) => s.value)).toEqual([0]);
    // A query can land while the group writes its rules one by one: read the inputs from one whole evaluation.
    const available = await prom.waitFor(
      async () => {
        const values = (await prom.query('ai:input_available{input=~"node_.*"}')).map((s) => s.value);
        return values.length === 3 && values.every((v) => v === 0) ? values : null;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'every node input unavailable' },
    );
    expect(available).toEqual([0, 0, 0]);
  }, 30_000);
});
