/**
 * The real queue: no more than max_concurrent requests reach Ollama at once, the rest wait in the
 * gateway (ollama_requests_queued counts exactly them), and beyond max_queue the answer is 503.
 */
import { readUntil, metric, postJson, request, startGateway, startStandIn, type RawAnswer, type RunningGateway, type RunningStandIn } from './harness';

let standIn: RunningStandIn;
let gateway: RunningGateway;

beforeEach(async () => {
  // Slow answers (20 tokens at 40/s = 0.5 s) and a stand-in that would take many more at once.
  standIn = await startStandIn({ timing: { tokensPerSecond: 40, loadMs: 0, answerTokens: 20 }, numParallel: 64 });
});

afterEach(async () => {
  await gateway.close();
  await standIn.close();
});

const standInState = async () => JSON.parse((await request(standIn.url, { method: 'GET', path: '/_standin/state' })).body) as { running: number };
const ask = (prompt: string) => postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt, stream: false });

test('exactly max_concurrent requests reach Ollama at once; the others wait, counted in ollama_requests_queued', async () => {
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 2, max_queue: 10 } });
  let maxRunning = 0;
  let maxInFlight = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxRunning = Math.max(maxRunning, (await standInState()).running);
      maxInFlight = Math.max(maxInFlight, (await metric(gateway.registry, 'ollama_requests_in_flight')) ?? 0);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const answers = Promise.all(Array.from({ length: 6 }, (_, i) => ask(`question ${i}`)));
  expect(await readUntil(() => metric(gateway.registry, 'ollama_requests_queued'), (v) => v === 4)).toBe(4);
  const done = await answers;
  sampling = false;
  await sampler;
  expect(done.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(maxRunning).toBe(2);
  expect(maxInFlight).toBe(2);
  expect(await metric(gateway.registry, 'ollama_requests_queued')).toBe(0);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'success' })).toBe(6);
  expect(await metric(gateway.registry, 'ollama_gateway_queue_wait_seconds_count')).toBe(6);
});

test('a streamed generation holds its slot until its answer has ended, not only until its head', async () => {
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 2, max_queue: 10 } });
  let maxRunning = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxRunning = Math.max(maxRunning, (await standInState()).running);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  // Streamed, as Ollama's clients ask by default: the head comes with the first token, 0.5 s before the end.
  const answers = Promise.all(Array.from({ length: 6 }, (_, i) => postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt: `streamed ${i}` })));
  expect(await readUntil(() => metric(gateway.registry, 'ollama_requests_queued'), (v) => v === 4)).toBe(4);
  const done = await answers;
  sampling = false;
  await sampler;
  expect(done.map((a) => [a.status, a.body.trim().split('\n').length])).toEqual(Array.from({ length: 6 }, () => [200, 21]));
  expect(maxRunning).toBe(2);
  expect(await metric(gateway.registry, 'ollama_requests_in_flight')).toBe(0);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'success' })).toBe(6);
});

test('over max_queue: 503 at once with Retry-After and Ollama\'s error shape; metadata requests are not queued', async () => {
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 1, max_queue: 2, retry_after_seconds: 3 } });
  const held = [ask('a'), ask('b'), ask('c')];
  await readUntil(() => metric(gateway.registry, 'ollama_requests_queued'), (v) => v === 2);
  const started = Date.now();
  const refused = await ask('d');
  expect(Date.now() - started).toBeLessThan(200);
  expect(refused.status).toBe(503);
  expect(refused.headers['retry-after']).toBe('3');
  expect(JSON.parse(refused.body).error).toBe('the gateway\'s queue is full (2 requests waiting for Ollama); retry later');
  const tags = await request(gateway.url, { method: 'GET', path: '/api/tags' });
  expect(tags.status).toBe(200);
  expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200, 200]);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'rejected_queue_full' })).toBe(1);
});

test('a request held longer than hold_timeout_seconds: 503 queue_timeout', async () => {
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 1, max_queue: 5, hold_timeout_seconds: 0.2 } });
  const first = ask('slow');
  await readUntil(() => metric(gateway.registry, 'ollama_requests_in_flight'), (v) => v === 1);
  const timedOut: RawAnswer = await ask('waits');
  expect(timedOut.status).toBe(503);
  expect(JSON.parse(timedOut.body).error).toMatch(/^no slot for this request within 0.2 s/);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'queue_timeout' })).toBe(1);
  expect((await first).status).toBe(200);
});

test('a client that leaves the queue is no longer counted in it', async () => {
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 1, max_queue: 5 } });
  const first = ask('slow');
  await readUntil(() => metric(gateway.registry, 'ollama_requests_in_flight'), (v) => v === 1);
  const controller = new AbortController();
  const leaving = fetch(`${gateway.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'phi3:mini', prompt: 'x' }), signal: controller.signal }).catch(() => 'left');
  await readUntil(() => metric(gateway.registry, 'ollama_requests_queued'), (v) => v === 1);
  controller.abort();
  expect(await leaving).toBe('left');
  await readUntil(() => metric(gateway.registry, 'ollama_requests_queued'), (v) => v === 0);
  await readUntil(() => metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'aborted' }), (v) => v === 1);
  expect((await first).status).toBe(200);
});
