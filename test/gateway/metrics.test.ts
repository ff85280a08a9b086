/**
 * The gateway's /metrics after known traffic: the values a user would check against what Ollama reported.
 */
import { Ollama } from 'ollama';
import { readUntil, metric, postJson, request, startGateway, startStandIn, type RunningGateway, type RunningStandIn } from './harness';

let standIn: RunningStandIn;
let gateway: RunningGateway;

beforeEach(async () => {
  standIn = await startStandIn({ timing: { tokensPerSecond: 1000, loadMs: 50, answerTokens: 7 }, keepAlive: '5m' });
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 4 }, poll: { interval_seconds: 0.05 } });
  gateway.app.start();
});

afterEach(async () => {
  await gateway.close();
  await standIn.close();
});

test('counters, histograms and token totals from known traffic', async () => {
  const client = new Ollama({ host: gateway.url });
  // phi3 is loaded by the first request (load_duration 50 ms), then served loaded (1.5 ms).
  const first = await client.generate({ model: 'phi3:mini', prompt: 'one two three', stream: false });
  let last: { eval_count?: number; prompt_eval_count?: number } = {};
  for await (const part of await client.chat({ model: 'phi3:mini', messages: [{ role: 'user', content: 'four five' }], stream: true })) last = part;
  // "phi3" means Ollama's "phi3:latest" (not installed here): the label is the name Ollama resolves.
  await expect(client.chat({ model: 'phi3', messages: [{ role: 'user', content: 'x' }], stream: false })).rejects.toThrow('model "phi3" not found');
  await client.embed({ model: 'all-minilm', input: 'six' });
  await request(gateway.url, { method: 'GET', path: '/api/tags' });

  const m = (name: string, labels: Record<string, string> = {}) => metric(gateway.registry, name, labels);
  expect(await m('ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'success' })).toBe(1);
  expect(await m('ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/chat', outcome: 'success' })).toBe(1);
  expect(await m('ollama_requests_total', { model: 'phi3:latest', endpoint: '/api/chat', outcome: 'client_error' })).toBe(1);
  expect(await m('ollama_requests_total', { model: 'all-minilm:latest', endpoint: '/api/embed', outcome: 'success' })).toBe(1);
  expect(await m('ollama_requests_total', { model: '', endpoint: '/api/tags', outcome: 'success' })).toBe(1);

  expect(await m('ollama_prompt_tokens_total', { model: 'phi3:mini' })).toBe(first.prompt_eval_count + last.prompt_eval_count!);
  expect(await m('ollama_generated_tokens_total', { model: 'phi3:mini' })).toBe(first.eval_count + last.eval_count!);
  expect(await m('ollama_model_load_duration_seconds_count', { model: 'phi3:mini' })).toBe(2);
  expect(await m('ollama_model_load_duration_seconds_sum', { model: 'phi3:mini' })).toBeCloseTo(0.05 + 0.0015, 9);
  // Durations: every answered generation (the 404 too); time to first token: streamed answers only.
  expect(await m('ollama_request_duration_seconds_count', { model: 'phi3:mini' })).toBe(2);
  expect(await m('ollama_request_duration_seconds_count', { model: 'phi3:latest' })).toBe(1);
  expect(await m('ollama_time_to_first_token_seconds_count', { model: 'phi3:mini' })).toBe(1);
  expect(await m('ollama_request_duration_seconds_sum', { model: 'phi3:mini' })).toBeGreaterThan(0.05);
  expect(await m('ollama_requests_in_flight')).toBe(0);
  expect(await m('ollama_requests_queued')).toBe(0);
});

test('poller: up, installed and loaded models, expires_at moving with each request; keep_alive -1 reports a far-future date', async () => {
  const m = (name: string, labels: Record<string, string> = {}) => metric(gateway.registry, name, labels);
  await readUntil(() => m('ollama_up'), (v) => v === 1);
  expect(await m('ollama_model_installed_bytes', { model: 'phi3:mini' })).toBe(2_176_178_913);
  expect(await m('ollama_model_loaded_bytes', { model: 'phi3:mini' })).toBeUndefined();

  await postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt: 'x', stream: false, keep_alive: '10m' });
  const expires1 = await readUntil(() => m('ollama_model_expires_at_timestamp_seconds', { model: 'phi3:mini' }), (v) => v !== undefined);
  expect(expires1! - Date.now() / 1000).toBeGreaterThan(590);
  expect(await m('ollama_model_loaded_bytes', { model: 'phi3:mini' })).toBe(5_137_025_024);
  expect(await m('ollama_model_loaded_vram_bytes', { model: 'phi3:mini' })).toBe(0);

  // A request that bypasses the gateway still moves expires_at: the idle rule reads that.
  await new Promise((r) => setTimeout(r, 20));
  await postJson(standIn.url, '/api/generate', { model: 'phi3:mini', prompt: 'x', stream: false, keep_alive: '10m' });
  await readUntil(() => m('ollama_model_expires_at_timestamp_seconds', { model: 'phi3:mini' }), (v) => v! > expires1!);

  await postJson(standIn.url, '/api/generate', { model: 'phi3:mini', prompt: 'x', stream: false, keep_alive: -1 });
  const forever = await readUntil(() => m('ollama_model_expires_at_timestamp_seconds', { model: 'phi3:mini' }), (v) => v! > Date.now() / 1000 + 200 * 365 * 86400);
  expect(new Date(forever! * 1000).getUTCFullYear()).toBeGreaterThan(2300);

  // keep_alive 0 unloads: the loaded series vanish.
  await postJson(standIn.url, '/api/generate', { model: 'phi3:mini', prompt: '', keep_alive: 0 });
  await readUntil(() => m('ollama_model_loaded_bytes', { model: 'phi3:mini' }), (v) => v === undefined);

  // Installed models changed at runtime: one series per installed model.
  await postJson(standIn.url, '/_standin/models', [{ name: 'gemma2:2b', size: 1_629_518_495 }]);
  await readUntil(() => m('ollama_model_installed_bytes', { model: 'gemma2:2b' }), (v) => v === 1_629_518_495);
  expect(await m('ollama_model_installed_bytes', { model: 'phi3:mini' })).toBeUndefined();

  await standIn.close();
  await readUntil(() => m('ollama_up'), (v) => v === 0);
  expect(await m('ollama_model_installed_bytes', { model: 'gemma2:2b' })).toBe(1_629_518_495);
});

test('model labels from request bodies are bounded (hostile model names cannot grow the series without limit)', async () => {
  const bounded = await startGateway({ upstream: { url: standIn.url }, metrics: { max_models: 3 } });
  try {
    for (let i = 0; i < 10; i++) await postJson(bounded.url, '/api/generate', { model: `random-${i}`, prompt: 'x', stream: false });
    await postJson(bounded.url, '/api/generate', { model: 'bad "name"\n', prompt: 'x', stream: false });
    const text = await bounded.registry.getSingleMetricAsString('ollama_requests_total');
    const models = new Set([...text.matchAll(/model="([^"]*)"/g)].map((x) => x[1]));
    expect([...models].sort()).toEqual(['other', 'random-0:latest', 'random-1:latest', 'random-2:latest']);
  } finally {
    await bounded.close();
  }
});

test('GET /metrics serves the exposition format', async () => {
  const res = await request(gateway.url, { method: 'GET', path: '/metrics' });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
  for (const name of ['ollama_requests_total', 'ollama_requests_queued', 'ollama_requests_in_flight', 'ollama_up', 'ollama_gateway_wakes_total']) {
    expect(res.body).toContain(`# TYPE ${name} `);
  }
});
