/**
 * Wake on request against the real receiver app (its wake API, auth, lifecycle manager and http readiness
 * probe); only its Docker engine is in memory, and "starting the container" starts the Ollama stand-in.
 * The same on a real dockerd: test/gateway/wake-docker.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../receiver/src/config/load';
import type { ContainerRef } from '../../receiver/src/config/types';
import type { StartOutcome } from '../../receiver/src/docker/controller';
import { FakeDocker } from '../support/fake-docker';
import { freePort } from '../../scripts/harness/free-port';
import { buildTestReceiver, TEST_TOKEN, type TestReceiver } from '../support/receiver-app';
import { readUntil, metric, postJson, request, startGateway, startStandIn, type RunningGateway, type RunningStandIn } from './harness';

/** Starting "ollama" starts the stand-in on its port, after a delay like a container's start. */
class StandInDocker extends FakeDocker {
  standIn?: RunningStandIn;
  startDelayMs = 150;
  constructor(private readonly port: number) {
    super();
    this.add('ollama');
  }
  override async start(ref: ContainerRef): Promise<StartOutcome> {
    const outcome = await super.start(ref);
    if (outcome === 'started') {
      await new Promise((r) => setTimeout(r, this.startDelayMs));
      this.standIn = await startStandIn({}, this.port);
    }
    return outcome;
  }
}

let port: number;
let docker: StandInDocker;
let receiver: TestReceiver;
let receiverServer: http.Server;
let receiverUrl: string;
let gateway: RunningGateway;

beforeEach(async () => {
  port = await freePort();
  docker = new StandInDocker(port);
  receiver = buildTestReceiver({
    docker,
    config: parseConfig(`
targets:
  ollama:
    members: [{container: ollama}]
    readiness: {type: http, url: "http://127.0.0.1:${port}/api/version", interval_seconds: 0.05}
    min_running_seconds: 0
    cooldown_seconds: 0
`),
  });
  await receiver.start();
  receiverServer = http.createServer(receiver.app);
  await new Promise<void>((resolve) => receiverServer.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiverServer.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await gateway?.close();
  await docker.standIn?.close();
  receiverServer.closeAllConnections();
  await new Promise((r) => receiverServer.close(r));
  await receiver.close();
});

const gatewayWith = (wake: Record<string, unknown>, admission: Record<string, unknown> = {}) =>
  startGateway({ upstream: { url: `http://127.0.0.1:${port}` }, admission: { max_concurrent: 4, ...admission }, wake: { receiver_url: receiverUrl, ...wake } }, { token: TEST_TOKEN });

test('a request to a stopped Ollama wakes it through the receiver and gets its answer; ten concurrent requests cause one start', async () => {
  gateway = await gatewayWith({ timeout_seconds: 10 });
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt: `q${i}`, stream: false })));
  expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
  expect(JSON.parse(answers[3].body).response).toContain('q3');
  expect(docker.mutations()).toEqual([{ op: 'start', ref: 'ollama' }]);
  expect(await metric(gateway.registry, 'ollama_gateway_wakes_total', { result: 'ready' })).toBe(1);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'success' })).toBe(10);
});

test('metadata requests (what UIs poll) do not wake Ollama', async () => {
  gateway = await gatewayWith({});
  const tags = await request(gateway.url, { method: 'GET', path: '/api/tags' });
  expect(tags.status).toBe(503);
  expect(JSON.parse(tags.body).error).toMatch(/stopped to save memory and a generation request wakes it/);
  expect(docker.mutations()).toEqual([]);
});

test('a wake that takes longer than wake.timeout_seconds: 503 with Retry-After and a clear message', async () => {
  docker.startDelayMs = 3000;
  gateway = await gatewayWith({ timeout_seconds: 1 });
  const started = Date.now();
  const res = await postJson(gateway.url, '/api/chat', { model: 'phi3:mini', messages: [{ role: 'user', content: 'x' }] });
  expect(Date.now() - started).toBeLessThan(2900);
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(JSON.parse(res.body).error).toMatch(/^Ollama is stopped and the wake did not succeed \(timeout\)/);
  expect(await metric(gateway.registry, 'ollama_gateway_wakes_total', { result: 'timeout' })).toBe(1);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/chat', outcome: 'unavailable' })).toBe(1);
  // The start goes on in the receiver; let it finish so that afterEach stops the stand-in it starts.
  await readUntil(() => docker.standIn, (s) => s !== undefined, 5000);
});

test('a wake the receiver refuses (wrong token): 503 naming the receiver\'s answer; nothing started', async () => {
  gateway = await startGateway({ upstream: { url: `http://127.0.0.1:${port}` }, wake: { receiver_url: receiverUrl } }, { token: 'wrong-token-0123456789' });
  const res = await postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt: 'x' });
  expect(res.status).toBe(503);
  expect(JSON.parse(res.body).error).toMatch(/the receiver answered the wake with HTTP 401/);
  expect(docker.mutations()).toEqual([]);
  expect(await metric(gateway.registry, 'ollama_gateway_wakes_total', { result: 'failed' })).toBe(1);
});

test('the receiver unreachable: 503 unavailable, and the gateway keeps serving', async () => {
  gateway = await startGateway({ upstream: { url: `http://127.0.0.1:${port}` }, wake: { receiver_url: `http://127.0.0.1:${await freePort()}` } }, { token: TEST_TOKEN });
  const res = await postJson(gateway.url, '/api/embed', { model: 'all-minilm', input: 'x' });
  expect(res.status).toBe(503);
  expect(JSON.parse(res.body).error).toMatch(/the receiver cannot be reached: ECONNREFUSED/);
});
