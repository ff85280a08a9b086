/**
 * The recommendation with Ollama's inventory on a real Prometheus 2.42, scraping the real gateway
 * (receiver/src/gateway, job="ollama") in front of the Ollama stand-in (scripts/stack/ollama-standin),
 * and a node exporter stand-in. 200 random states (installed models and their sizes, loaded models and
 * their RAM/VRAM parts, available memory, queue) are each checked against an independent TypeScript
 * statement of the rule (below): no answer names a model that is not installed or does not fit (except
 * the documented no_fitting_model fallback), and every poll has exactly one answer per pair.
 *
 * The queue: the gateway's own admission queue is real but needs requests held open to grow; the random
 * queue length is served by a second target of job="ollama" exporting only ollama_requests_queued (the
 * rules sum it over the job's targets).
 */
import path from 'node:path';
import { COMPLEXITIES, TASK_TYPES, loadRulesConfig, type Branch, type Complexity, type RulesConfig, type TaskType } from '../../scripts/rules/config';
import type { InstalledModel } from '../../scripts/stack/ollama-standin/model-state';
import { startGateway, startStandIn, type RunningGateway, type RunningStandIn } from '../gateway/harness';
import { PrometheusServer, RECOMMENDATION_QUERY, REPO_ROOT, TestExporter, startPrometheus, startTestExporter } from '../../scripts/harness/prometheus';
import { prng } from '../../scripts/harness/prng';

const INTERVAL_S = 0.25;
const STATES = 200;
const GiB = 2 ** 30;
const config: RulesConfig = loadRulesConfig(path.join(REPO_ROOT, 'rules/config/ai-dispatcher.yml'));
const PAIRS = COMPLEXITIES.flatMap((c) => TASK_TYPES.map((t) => [c, t] as const));
/** The configured models plus one the configuration does not name (it still takes memory when loaded). */
const UNIVERSE = [...Object.keys(config.models), 'mistral:7b'];

interface State {
  installed: InstalledModel[];
  loaded: string[];
  memory: number;
  queue: number;
}
interface Answer {
  model: string;
  priority: string;
  timeout: string;
}

function randomState(rand: () => number): State {
  const installed: InstalledModel[] = [];
  for (const name of UNIVERSE) {
    if (rand() < 0.35) continue;
    // Distinct sizes (ties between installed sizes would make "the smallest" ambiguous).
    const size = Math.round((1.2e9 + rand() * 5e9) / 8) * 8 + installed.length;
    const loadedSize = Math.round(size * (1 + rand() * 0.5));
    const vram = rand() < 0.3 ? (rand() < 0.5 ? loadedSize : Math.round(loadedSize * rand())) : 0;
    installed.push({ name, size, loadedSize, vramSize: vram });
  }
  const loaded = installed.filter(() => rand() < 0.35).map((m) => m.name);
  const memory = Math.round((1 + rand() * 9) * GiB);
  const queue = rand() < 0.3 ? 4 + Math.floor(rand() * 4) : Math.floor(rand() * 4);
  return { installed, loaded, memory, queue };
}

/** The rule, stated independently of the PromQL: per pair, the model, priority and timeout the client must get. */
function expectedAnswers(state: State): Record<string, Answer> {
  const branch = state.memory < config.thresholds.node_memory_available_bytes
    ? 'resource_conservation'
    : state.queue > config.thresholds.ollama_requests_queued
      ? 'queue_management'
      : 'optimal_performance';
  const byName = new Map(state.installed.map((m) => [m.name, m]));
  const freedByUnloading = state.loaded.reduce((sum, n) => sum + byName.get(n)!.loadedSize! - byName.get(n)!.vramSize!, 0);
  const room = state.memory + freedByUnloading - config.thresholds.model_fit_margin_bytes;
  const fits = (name: string) => byName.has(name) && (state.loaded.includes(name) || byName.get(name)!.size <= room);
  const configured = state.installed.filter((m) => m.name in config.models).sort((a, b) => a.size - b.size);
  const answers: Record<string, Answer> = {};
  for (const [c, t] of PAIRS) {
    const list = config.recommendation[branch][c][t];
    const first = list.models.find(fits);
    answers[`${c}/${t}`] = first
      ? { model: first, priority: branch, timeout: String(list.timeoutSeconds) }
      : { model: configured[0]?.name ?? config.fallback.model, priority: 'no_fitting_model', timeout: String(config.fallback.timeoutSeconds) };
  }
  return answers;
}

describe('the recommendation follows the inventory (real Prometheus, gateway and Ollama stand-in)', () => {
  let standIn: RunningStandIn;
  let gateway: RunningGateway;
  let node: TestExporter;
  let queue: TestExporter;
  let prom: PrometheusServer;
  const host = { memory: 8 * GiB };

  beforeAll(async () => {
    standIn = await startStandIn({ models: [] });
    gateway = await startGateway({ upstream: { url: standIn.url }, poll: { interval_seconds: INTERVAL_S / 2 } });
    gateway.app.start(); // the upstream poller behind ollama_up and the inventory series
    node = await startTestExporter();
    const cpu = { idle: 1000, user: 1000, at: Date.now() };
    node.onScrape(() => {
      const now = Date.now();
      const elapsed = (now - cpu.at) / 1000;
      cpu.at = now;
      cpu.idle += elapsed * 0.9;
      cpu.user += elapsed * 0.1;
      node.set('node_cpu_seconds_total', cpu.idle, { cpu: '0', mode: 'idle' }, 'counter');
      node.set('node_cpu_seconds_total', cpu.user, { cpu: '0', mode: 'user' }, 'counter');
      node.set('node_time_seconds', now / 1000);
      node.set('node_memory_MemAvailable_bytes', host.memory);
      node.set('node_load1', 1);
    });
    queue = await startTestExporter();
    queue.set('ollama_requests_queued', 0);
    const gatewayAddress = new URL(gateway.url).host;
    prom = await startPrometheus({
      ruleFiles: ['rules/ai-dispatcher.rules.yml'],
      scrapeInterval: `${INTERVAL_S * 1000}ms`,
      evaluationInterval: `${INTERVAL_S * 1000}ms`,
      scrapeConfigs: [
        { job: 'node', targets: [node.address] },
        { job: 'ollama', targets: [gatewayAddress, queue.address] },
      ],
    });
  }, 30_000);

  afterAll(async () => {
    await prom?.stop();
    await gateway?.close();
    await standIn?.close();
    await node?.close();
    await queue?.close();
  });

  /** Puts the stand-in, the host and the queue into `state` through their own interfaces. */
  async function apply(state: State): Promise<void> {
    const post = async (url: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    await post(`${standIn.url}/_standin/models`, state.installed);
    // Ollama's own API: a generate request without a prompt loads a model; keep_alive 0 unloads it.
    for (const m of state.installed)
      await post(`${standIn.url}/api/generate`, { model: m.name, keep_alive: state.loaded.includes(m.name) ? -1 : 0 });
    host.memory = state.memory;
    queue.set('ollama_requests_queued', state.queue);
  }

  async function answers(): Promise<{ byPair: Record<string, Answer>; rows: number; recordedAt: number }> {
    const rows = await prom.query(RECOMMENDATION_QUERY);
    const byPair: Record<string, Answer> = {};
    for (const r of rows) byPair[`${r.metric.complexity}/${r.metric.task_type}`] = { model: r.metric.model, priority: r.metric.priority, timeout: r.metric.timeout_seconds };
    return { byPair, rows: rows.length, recordedAt: Math.min(...rows.map((r) => r.value)) };
  }

  /**
   * Waits until Prometheus's inputs show `state` in three successive evaluations and a recommendation was
   * recorded after the first of them: that recommendation was decided on exactly this state (its evaluation
   * recorded the inputs it read). Returns it.
   */
  async function decidedOn(state: State): Promise<Record<string, Answer>> {
    const byName = new Map(state.installed.map((m) => [m.name, m]));
    // Every input of the decision, and its availability: under load a scrape can time out (up == 0 for
    // one interval), and the rule then answers for a missing input (metrics_unavailable, or the lists'
    // first models for an unknown inventory), which is right but not the state under test.
    const INPUTS = '{__name__=~"ai:input_available|ai:ollama_model_installed_bytes:max|ai:ollama_model_loaded_bytes:max|ai:ollama_models_loaded_ram_bytes:sum|ai:node_memory_MemAvailable_bytes:min|ai:ollama_requests_queued:sum"}';
    const check = (inputs: { metric: Record<string, string>; value: number }[]) => {
      const value = (name: string, model?: string) => inputs.find((s) => s.metric.__name__ === name && s.metric.model === model)?.value;
      const want = (name: string, expected: number | undefined, model?: string) => {
        if (value(name, model) !== expected) throw new Error(`${name}${model ? `{model="${model}"}` : ''} is ${value(name, model)}, not yet ${expected}`);
      };
      for (const m of Object.keys(config.models)) {
        want('ai:ollama_model_installed_bytes:max', byName.get(m)?.size ?? 0, m);
        want('ai:ollama_model_loaded_bytes:max', state.loaded.includes(m) ? byName.get(m)!.loadedSize : 0, m);
      }
      want('ai:ollama_models_loaded_ram_bytes:sum', state.loaded.reduce((s, n) => s + byName.get(n)!.loadedSize! - byName.get(n)!.vramSize!, 0));
      want('ai:node_memory_MemAvailable_bytes:min', state.memory);
      want('ai:ollama_requests_queued:sum', state.queue);
      for (const input of ['node_memory', 'node_cpu', 'node_load1', 'ollama_queue', 'model_inventory'])
        if (inputs.find((s) => s.metric.__name__ === 'ai:input_available' && s.metric.input === input)?.value !== 1) throw new Error(`input ${input} is not available`);
    };
    /** When the inputs were last evaluated before `time` (now when undefined): the earliest and the latest of them. */
    const inputsEvaluated = async (time?: number) => {
      const stamps = (await Promise.all(['ai:ollama_models_loaded_ram_bytes:sum', 'ai:node_memory_MemAvailable_bytes:min'].map((n) => prom.query(`timestamp(${n})`, time)))).flat();
      return { first: Math.min(...stamps.map((s) => s.value)), last: Math.max(...stamps.map((s) => s.value)) };
    };
    return prom.waitFor(
      async () => {
        // The state in the inputs' last three evaluations: a decision recorded after the one before the last read
        // the state whether or not the last one was already written.
        check(await prom.query(INPUTS));
        const latest = await inputsEvaluated();
        check(await prom.query(INPUTS, latest.first - 0.001));
        const before = await inputsEvaluated(latest.first - 0.001);
        check(await prom.query(INPUTS, before.first - 0.001));
        const now = await answers();
        if (now.rows !== 6) throw new Error(`the client query gave ${now.rows} rows, not 6`);
        return now.recordedAt > before.last ? now.byPair : null;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `a decision on state ${JSON.stringify(state)}` },
    );
  }

  it(`answers ${STATES} random states as the rule says: installed, fitting, one per pair`, async () => {
    const rand = prng(18);
    const mismatches: string[] = [];
    let fallbacks = 0;
    let skippedFirstChoice = 0;
    for (let i = 0; i < STATES; i++) {
      const state = randomState(rand);
      await apply(state);
      const got = await decidedOn(state);
      const want = expectedAnswers(state);
      expect(Object.keys(got).sort()).toEqual(PAIRS.map(([c, t]) => `${c}/${t}`).sort());
      const installed = new Set(state.installed.map((m) => m.name));
      for (const [pair, answer] of Object.entries(got)) {
        if (JSON.stringify(answer) !== JSON.stringify(want[pair])) mismatches.push(`state ${i} ${pair}: got ${JSON.stringify(answer)}, rule says ${JSON.stringify(want[pair])}`);
        // The user-visible promise, checked apart from the rule: a model named outside the fallback is installed.
        if (answer.priority !== 'no_fitting_model' && !installed.has(answer.model)) mismatches.push(`state ${i} ${pair}: ${answer.model} is not installed`);
        if (answer.priority === 'no_fitting_model') fallbacks++;
        else if (answer.model !== config.recommendation[answer.priority as Branch][pair.split('/')[0] as Complexity][pair.split('/')[1] as TaskType].models[0]) skippedFirstChoice++;
      }
    }
    expect(mismatches).toEqual([]);
    // The random states did exercise the three outcomes.
    expect(fallbacks).toBeGreaterThan(20);
    expect(skippedFirstChoice).toBeGreaterThan(20);
  }, STATES * 2_000);

  it('installing a model changes the answer within two evaluation intervals of the scrape that sees it', async () => {
    const base: State = {
      installed: [
        { name: 'phi3:mini', size: 2_176_178_913, loadedSize: 2_176_178_913, vramSize: 0 },
        { name: 'llama3.2:3b', size: 2_019_393_189, loadedSize: 2_019_393_189, vramSize: 0 },
      ],
      loaded: [],
      memory: 8 * GiB,
      queue: 0,
    };
    await apply(base);
    expect((await decidedOn(base))['high/analysis'].model).toBe('llama3.2:3b');
    const withQwen: State = { ...base, installed: [...base.installed, { name: 'qwen2.5:7b', size: 4_683_087_332, loadedSize: 4_683_087_332, vramSize: 0 }] };
    const installedAt = Date.now() / 1000; // the random states above may have had qwen2.5:7b: only samples from now on count
    await apply(withQwen);
    expect((await decidedOn(withQwen))['high/analysis']).toEqual({ model: 'qwen2.5:7b', priority: 'optimal_performance', timeout: '60' });
    // From Prometheus's own timestamps: the first scraped sample of the new model, the first answer naming it.
    const firstSample = async (selector: string) => {
      const series = await prom.api<{ result: { values: [number, string][] }[] }>('query', { query: `${selector}[30s]` });
      return Math.min(...series.result.flatMap((s) => s.values.map((v) => v[0]).filter((t) => t >= installedAt)));
    };
    const scraped = await firstSample('ollama_model_installed_bytes{model="qwen2.5:7b"}');
    const answered = await firstSample('ai:recommended_model_options{complexity="high", task_type="analysis", model="qwen2.5:7b"}');
    expect(answered - scraped).toBeGreaterThan(0);
    expect(answered - scraped).toBeLessThanOrEqual(2 * INTERVAL_S + 0.001);
  }, 30_000);
});
