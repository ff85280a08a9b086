/**
 * Wake on a real dockerd: the Ollama stand-in runs as a container (stopped at first), the built receiver
 * process manages it, and a request through the gateway starts it via the receiver's wake API and gets the
 * stand-in's answer. Ten concurrent requests during the wake cause one start.
 */
import type Docker from 'dockerode';
import { Ollama } from 'ollama';
import { startDockerEngine, type DockerEngine } from '../support/docker-engine';
import { freePort } from '../support/free-port';
import { buildOllamaStandInImage } from '../support/ollama-standin-image';
import { startReceiverProcess, type ReceiverProcess } from '../support/receiver-process';
import { metric, startGateway, type RunningGateway } from './harness';

const CONTAINER = 'ollama-wake-stand-in';
const TOKEN = 'wake-test-token-0123456789';

let engine: DockerEngine;
let receiver: ReceiverProcess;
let gateway: RunningGateway;
let port: number;
const starts: string[] = [];
let events: NodeJS.ReadableStream | undefined;

beforeAll(async () => {
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
  }, { token: TOKEN });
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await receiver?.stop();
  (events as unknown as { destroy?: () => void })?.destroy?.();
  await engine?.stop();
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
}, 120_000);

test('stopped again, the next streamed chat wakes it again', async () => {
  await container().stop();
  const client = new Ollama({ host: gateway.url });
  let text = '';
  for await (const part of await client.chat({ model: 'phi3:mini', messages: [{ role: 'user', content: 'again' }], stream: true })) text += part.message.content;
  expect(text).toContain('again');
  expect(starts).toEqual([CONTAINER, CONTAINER]);
}, 120_000);
