/**
 * Model preload: when Ollama comes up (started by an alert, the warm-up, a wake or by hand), the gateway
 * loads the model Prometheus recommends now for the configured pairs, before any client request, so the
 * first request does not pay the load. Real Prometheus (the documented client query), the Ollama stand-in
 * (real HTTP, a load time), the gateway in this process; with a wake configured, the receiver app (real HTTP)
 * to which the gateway reports each round.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Ollama } from 'ollama';
import { freePort } from '../../scripts/harness/free-port';
import { startPrometheus, type PrometheusServer } from '../../scripts/harness/prometheus';
import { TEST_TOKEN, buildTestReceiver } from '../support/receiver-app';
import { readUntil, metric, startGateway, startStandIn, type RunningGateway, type RunningStandIn } from './harness';

const LOAD_MS = 400;
let dir: string;
let prom: PrometheusServer;

/** Rows as the bundle records them: high/analysis -> mistral:7b, low/general -> phi3:mini, high/general -> not installed. */
function recommendation(rows: Array<[string, string, string]>): string {
  const rules = rows.map(([complexity, taskType, model]) =>
    `      - {record: ai:recommended_model_options, expr: '1', labels: {complexity: ${complexity}, task_type: ${taskType}, model: '${model}', priority: optimal_performance, timeout_seconds: '60', temperature: '0.3', num_predict: '100'}}`);
  return `groups:\n  - name: recommendation\n    rules:\n${rules.join('\n')}\n`;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-preload-'));
  fs.writeFileSync(path.join(dir, 'rec.yml'), recommendation([['high', 'analysis', 'mistral:7b'], ['low', 'general', 'phi3:mini'], ['high', 'general', 'qwen9:404b']]));
  prom = await startPrometheus({ ruleFiles: [path.join(dir, 'rec.yml')] });
  await prom.waitFor(async () => (await prom.query('ai:recommended_model_options')).length === 3, { what: 'the recommendation rows' });
}, 30_000);

afterAll(async () => {
  await prom?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('after Ollama comes up', () => {
  let port: number;
  let gateway: RunningGateway | undefined;
  let ollama: RunningStandIn | undefined;
  afterEach(async () => {
    await gateway?.close();
    await ollama?.close();
    gateway = undefined;
    ollama = undefined;
  });

  async function startDownThenUp(pairs: Array<{ complexity: string; task_type: string }>, prometheusUrl = prom.url, receiverUrl?: string) {
    port = await freePort();
    gateway = await startGateway({
      upstream: { url: `http://127.0.0.1:${port}` },
      poll: { interval_seconds: 0.1, timeout_seconds: 0.5 },
      preload: { prometheus_url: prometheusUrl, pairs, keep_alive: '30m' },
      ...(receiverUrl && { wake: { receiver_url: receiverUrl, target: 'ollama', timeout_seconds: 10 } }),
    }, { token: TEST_TOKEN });
    gateway.app.start();
    await readUntil(() => metric(gateway!.registry, 'ollama_gateway_polls_total', { result: 'failure' }), (v) => (v ?? 0) > 0);
    ollama = await startStandIn({ timing: { tokensPerSecond: 2000, loadMs: LOAD_MS, answerTokens: 5 } }, port);
  }

  const loaded = async () => (await (await fetch(`${ollama!.url}/api/ps`)).json()) as { models: Array<{ name: string; expires_at: string }> };

  it('loads the recommended model of the configured pair before any request, and the first request does not pay the load', async () => {
    await startDownThenUp([{ complexity: 'high', task_type: 'analysis' }]);
    const ps = await readUntil(loaded, (p) => p.models.length > 0);
    expect(ps.models.map((m) => m.name)).toEqual(['mistral:7b']);
    // keep_alive 30m from the load.
    expect(Date.parse(ps.models[0].expires_at) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(await readUntil(() => metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: 'mistral:7b', result: 'loaded' }), (v) => v === 1)).toBe(1);
    // No client request has been made: nothing counted as a request.
    expect(await metric(gateway!.registry, 'ollama_requests_total', { model: 'mistral:7b', endpoint: '/api/generate', outcome: 'success' })).toBeUndefined();

    const client = new Ollama({ host: gateway!.url });
    const answer = await client.generate({ model: 'mistral:7b', prompt: 'Summarise the report.', stream: false });
    expect(answer.done).toBe(true);
    expect(answer.load_duration / 1e6).toBeLessThan(LOAD_MS / 4);
    // The pair not configured (phi3:mini) was not loaded.
    expect((await loaded()).models.map((m) => m.name)).toEqual(['mistral:7b']);
  });

  it('loads each distinct model once, one round per time Ollama comes up', async () => {
    await startDownThenUp([
      { complexity: 'high', task_type: 'analysis' },
      { complexity: 'low', task_type: 'general' },
      { complexity: 'high', task_type: 'analysis' },
    ]);
    await readUntil(loaded, (p) => p.models.length === 2);
    expect((await loaded()).models.map((m) => m.name).sort()).toEqual(['mistral:7b', 'phi3:mini']);
    await readUntil(() => metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: 'phi3:mini', result: 'loaded' }), (v) => v === 1);
    expect(await metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: 'mistral:7b', result: 'loaded' })).toBe(1);
    // Ollama stops and comes up again: a second round.
    await ollama!.close();
    await readUntil(() => metric(gateway!.registry, 'ollama_up'), (v) => v === 0);
    ollama = await startStandIn({ timing: { tokensPerSecond: 2000, loadMs: 10, answerTokens: 5 } }, port);
    await readUntil(() => metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: 'mistral:7b', result: 'loaded' }), (v) => v === 2);
  });

  it('counts a recommended model Ollama does not have (404) as failed; a pair without a recommendation is skipped', async () => {
    await startDownThenUp([{ complexity: 'high', task_type: 'general' }, { complexity: 'medium', task_type: 'general' }]);
    expect(await readUntil(() => metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: 'qwen9:404b', result: 'failed' }), (v) => v === 1)).toBe(1);
    expect(await metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: '', result: 'no_recommendation' })).toBe(0);
    expect((await loaded()).models).toEqual([]);
  });

  it('reports the round to the receiver: its /api/v1/targets shows the model loaded, ai_dispatcher_preloads_total counts it', async () => {
    const receiver = buildTestReceiver();
    await receiver.start();
    const server = http.createServer(receiver.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const lastPreload = async () => {
        const res = await fetch(`${receiverUrl}/api/v1/targets/ollama`, { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
        return ((await res.json()) as { lastPreload: { models: unknown[]; allLoaded: boolean } | null }).lastPreload;
      };
      expect(await lastPreload()).toBeNull();
      await startDownThenUp([{ complexity: 'high', task_type: 'analysis' }, { complexity: 'high', task_type: 'general' }], prom.url, receiverUrl);
      const shown = await readUntil(lastPreload, (p) => p !== null);
      expect(shown).toEqual(expect.objectContaining({ models: [{ model: 'mistral:7b', result: 'loaded' }, { model: 'qwen9:404b', result: 'failed' }], allLoaded: false }));
      expect((await loaded()).models.map((m) => m.name)).toEqual(['mistral:7b']);
      expect(await receiver.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'loaded' })).toBe(1);
      expect(await receiver.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'failed' })).toBe(1);
      expect(await metric(gateway!.registry, 'ollama_gateway_preload_reports_total', { result: 'sent' })).toBe(1);
      // Nothing was started or stopped for it.
      expect(receiver.docker.calls.filter((c) => c.op === 'start' || c.op === 'stop')).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await receiver.close();
    }
  });

  it('a receiver that cannot be reached does not stop the preload: the report counts failed', async () => {
    await startDownThenUp([{ complexity: 'high', task_type: 'analysis' }], prom.url, `http://127.0.0.1:${await freePort()}`);
    expect(await readUntil(() => metric(gateway!.registry, 'ollama_gateway_preload_reports_total', { result: 'failed' }), (v) => v === 1)).toBe(1);
    expect(await metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: 'mistral:7b', result: 'loaded' })).toBe(1);
    expect((await loaded()).models.map((m) => m.name)).toEqual(['mistral:7b']);
  });

  it('counts an unreachable Prometheus as no recommendation and loads nothing', async () => {
    await startDownThenUp([{ complexity: 'high', task_type: 'analysis' }], `http://127.0.0.1:${await freePort()}`);
    expect(await readUntil(() => metric(gateway!.registry, 'ollama_gateway_preloads_total', { model: '', result: 'no_recommendation' }), (v) => v === 1)).toBe(1);
    expect((await loaded()).models).toEqual([]);
  });
});
