/**
 * The Docker engine stops while the receiver (the built CLI) is in the middle of a start, and comes back:
 * the start is reported as not ready (metric, log, /api/v1/targets), the receiver keeps answering, notices
 * the engine's return, and the re-sent notification starts the target exactly once more.
 */
import { DockerEngine, containerRunning, createStandInContainer, startDockerEngine, waitForStandIn } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { alertBody } from '../../../scripts/harness/live-receiver';
import { ReceiverProcess, receiverConfigYaml, startReceiverProcess } from '../../../scripts/harness/receiver-process';

jest.setTimeout(90_000);

const TOKEN = 'engine-fault-test-token-0123456789';
let engine: DockerEngine;
let rx: ReceiverProcess;
let slow: { id: string; port: number };

const running = () => containerRunning(engine, slow.id);

async function view(): Promise<any> {
  return (await rx.request('GET', '/api/v1/targets/slow')).body;
}

beforeAll(async () => {
  engine = await startDockerEngine();
  slow = await createStandInContainer(engine, { name: 'fault-slow', readyDelaySeconds: 2.5 });
  rx = await startReceiverProcess({
    token: TOKEN,
    config: receiverConfigYaml({
      socketPath: engine.socketPath,
      targets: `slow: {members: [{container: fault-slow}], readiness: {type: http, url: "http://127.0.0.1:${slow.port}/api/tags", timeout_seconds: 4, interval_seconds: 0.1}, min_running_seconds: 0, cooldown_seconds: 0}`,
    }),
  });
});

afterAll(async () => {
  await rx?.stop();
  await engine?.stop();
});

it('engine down mid-start: not_ready, 503 while down, back up: the same notification starts it once, a further repeat is a duplicate', async () => {
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'slow', fingerprint: 'engine-mid-start' });
  expect((await rx.webhook(body)).status).toBe(202);
  await eventually('Docker to run it while the receiver waits for readiness', async () => (await running()) && (await view()).inFlight === 'start');

  await engine.halt();
  const failed = await eventually('the start to end', async () => {
    const v = await view();
    return v.inFlight === null && v.lastAction !== null ? v : undefined;
  });
  expect(failed).toMatchObject({ observed: { ready: false }, lastAction: { action: 'start', result: 'not_ready' } });
  expect(await rx.metric('ai_dispatcher_actions_total', { target: 'slow', action: 'start', result: 'not_ready' })).toBe(1);
  expect(await rx.metric('ai_dispatcher_readiness_wait_seconds_count', { target: 'slow', result: 'timeout' })).toBe(1);
  await eventually('docker_up to say the engine is gone', async () => (await rx.metric('ai_dispatcher_docker_up')) === 0);
  // While it is down: Alertmanager's retry gets 503 (retry later), the receiver itself is alive.
  const refused = await rx.webhook(body);
  expect(refused.status).toBe(503);
  expect(refused.body.error).toBe('docker_unavailable');
  expect((await rx.request('GET', '/healthz')).status).toBe(200);
  expect((await rx.request('GET', '/readyz')).status).toBe(503);

  await engine.restart();
  const back = Date.now();
  // dockerd stopped the container when it went down.
  expect(await running()).toBe(false);
  await eventually('the receiver to notice the engine is back', async () => (await rx.metric('ai_dispatcher_docker_up')) === 1);
  expect((await rx.request('GET', '/readyz')).status).toBe(200);

  const retried = await rx.webhook(body);
  expect(retried.status).toBe(202);
  expect(retried.body.duplicates).toBe(0);
  await eventually('ready', async () => {
    const v = await view();
    return v.inFlight === null && v.lastAction?.result === 'success' && v.observed.ready === true;
  });
  await waitForStandIn(slow.port);
  const repeat = await rx.webhook(body);
  expect(repeat.status).toBe(200);
  expect(repeat.body.duplicates).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 500));

  expect(await containerEvents(engine, slow.id, ['start', 'die'], back)).toEqual({ start: 1, die: 0 });
  expect(await rx.metric('ai_dispatcher_actions_total', { target: 'slow', action: 'start', result: 'success' })).toBe(1);
  expect(await rx.metric('ai_dispatcher_webhook_requests_total', { outcome: 'unavailable' })).toBe(1);
  expect(await rx.metric('ai_dispatcher_docker_errors_total', { operation: 'ping' })).toBeGreaterThanOrEqual(1);

  const lines = rx.logLines();
  const messages = lines.map((l) => l.msg);
  const at = (msg: string, from = 0) => messages.indexOf(msg, from);
  // The log tells the story in order: not ready, engine unreachable, reachable again, started.
  const notReady = lines.findIndex((l) => l.msg === 'action finished' && l.result === 'not_ready');
  const unreachable = at('docker engine unreachable');
  const reachable = at('docker engine reachable', unreachable);
  const success = lines.findIndex((l) => l.msg === 'action finished' && l.result === 'success');
  expect(notReady).toBeGreaterThan(-1);
  expect(unreachable).toBeGreaterThan(-1);
  expect(reachable).toBeGreaterThan(unreachable);
  expect(success).toBeGreaterThan(reachable);
  expect(lines.filter((l) => l.msg === 'webhook request rejected' && l.status === 503)).toHaveLength(1);
  expect(rx.output()).not.toContain(TOKEN);
});
