/**
 * Wake on a real dockerd: the Ollama stand-in runs as a container (stopped at first), the built receiver
 * process manages it, and a request through the gateway starts it via the receiver's wake API and gets the
 * stand-in's answer. Ten concurrent requests during the wake cause one start. Once up, the gateway preloads
 * the model a real Prometheus recommends and reports the round: the receiver's /api/v1/targets shows it loaded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { Ollama } from 'ollama';
import { startDockerEngine, type DockerEngine } from '../../scripts/harness/docker-engine';
import { freePort } from '../../scripts/harness/free-port';
import { startPrometheus, type PrometheusServer } from '../../scripts/harness/prometheus';
import { buildOllamaStandInImage } from '../../scripts/harness/ollama-standin-image';
import { startReceiverProcess, type ReceiverProcess } from '../../scripts/harness/receiver-process';
import { metric, startGateway, type RunningGateway } from './harness';

const CONTAINER = 'ollama-wake-stand-in';
const TOKEN = 'wake-test-token-0123456789';

let engine: DockerEngine;
let prom: PrometheusServer;
let ruleDir: string;
let receiver: ReceiverProcess;
let gateway: RunningGateway;
let port: number;
const starts: string[] = [];
let events: NodeJS.ReadableStream | undefined;

beforeAll(async () => {
  ruleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-wake-preload-'));
  fs.writeFileSync(path.join(ruleDir, 'rec.yml'), `groups:
  - name: recommendation
    rules:
      - {record: ai:recommended_model_options, expr: '1', labels: {complexity: high, task_type: analysis, model: 'mistral:7b', priority: optimal_performance}}
`);
  prom = await startPrometheus({ ruleFiles: [path.join(ruleDir, 'rec.yml')] });
  engine = await startDockerEngine();
  port = await freePort();
  const image = await buildOllamaStandInImage(engine);
  await engine.docker.createContainer({
    name: CONTAINER, Image: image, Env: [`OLLAMA_HOST=127.0.0.1:${port}`], StopTimeout: 5,
    HostConfig: { NetworkMode: 'host' },
  });
  events = (await engine.docker.getEvents({ filters: { type: ['container'], event: ['start'] } })) as NodeJS.ReadableStream;
  events.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) starts.push((JSON.parse(line) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name);
  });
  receiver = await startReceiverProcess({
    token: TOKEN,
    env: { DOCKER_HOST: engine.host },
    config: `
targets:
  ollama:
    members: [{container: ${CONTAINER}}]
    readiness: {type: http, url: "http://127.0.0.1:${port}/api/version", interval_seconds: 0.1, timeout_seconds: 30}
    min_running_seconds: 0
    cooldown_seconds: 0
`,
  });
  gateway = await startGateway({
    upstream: { url: `http://127.0.0.1:${port}` },
    admission: { max_concurrent: 4 },
    wake: { receiver_url: receiver.url, target: 'ollama', timeout_seconds: 60 },
    poll: { interval_seconds: 0.25, timeout_seconds: 1 },
    preload: { prometheus_url: prom.url, pairs: [{ complexity: 'high', task_type: 'analysis' }], keep_alive: '30m' },
  }, { token: TOKEN });
  // The poller sees Ollama down, then up after the wake: that edge starts the preload.
  gateway.app.start();
  await prom.waitFor(async () => (await prom.query('ai:recommended_model_options')).length === 1, { what: 'the recommendation row' });
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await receiver?.stop();
  (events as unknown as { destroy?: () => void })?.destroy?.();
  await engine?.stop();
  await prom?.stop();
  if (ruleDir) fs.rmSync(ruleDir, { recursive: true, force: true });
}, 60_000);

const container = () => engine.docker.getContainer(CONTAINER) as Docker.Container;

test('a request to the stopped container wakes it through the receiver and gets its answer; ten concurrent requests cause one start', async () => {
  expect((await container().inspect()).State.Running).toBe(false);
  const client = new Ollama({ host: gateway.url });
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => client.generate({ model: 'phi3:mini', prompt: `question ${i}`, stream: false })));
  expect(answers.map((a) => a.response)).toEqual(Array.from({ length: 10 }, (_, i) => expect.stringContaining(`question ${i}`)));
  expect((await container().inspect()).State.Running).toBe(true);
  expect(starts).toEqual([CONTAINER]);
  expect(await receiver.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
  expect(await metric(gateway.registry, 'ollama_gateway_wakes_total', { result: 'ready' })).toBe(1);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'success' })).toBe(10);

  // Ollama came up: the gateway loaded the recommended model and told the receiver, which shows it.
  let view: { lastPreload: { models: unknown[]; allLoaded: boolean } | null } | undefined;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    view = (await receiver.request('GET', '/api/v1/targets/ollama')).body as typeof view;
    if (view?.lastPreload) break;
  }
  expect(view?.lastPreload).toEqual(expect.objectContaining({ models: [{ model: 'mistral:7b', result: 'loaded' }], allLoaded: true }));
  expect(await receiver.metric('ai_dispatcher_preloads_total', { target: 'ollama', result: 'loaded' })).toBe(1);
  const ps = (await (await fetch(`http://127.0.0.1:${port}/api/ps`)).json()) as { models: Array<{ name: string }> };
  expect(ps.models.map((m) => m.name)).toContain('mistral:7b');
}, 120_000);

test('stopped again, the next streamed chat wakes it again', async () => {
  await container().stop();
  const client = new Ollama({ host: gateway.url });
  let text = '';
  for await (const part of await client.chat({ model: 'phi3:mini', messages: [{ role: 'user', content: 'again' }], stream: true })) text += part.message.content;
  expect(text).toContain('again');
  expect(starts).toEqual([CONTAINER, CONTAINER]);
}, 120_000);
