/**
 * The receiver when the Docker engine goes away and comes back, and when the receiver itself restarts:
 * real dockerd, real dockerode controller, real HTTP, captured Alertmanager 0.25 bodies.
 */
import { DockerEngine, containerRunning, createStandInContainer, standInAnswers, startDockerEngine, waitForStandIn } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(60_000);

let engine: DockerEngine;
let live: LiveReceiver | undefined;
let ollama: { id: string; port: number };
let sqlite: { id: string; port: number };
let slow: { id: string; port: number };
let targets: string;

const running = (id: string) => containerRunning(engine, id);

async function settled(receiver: LiveReceiver, name: string): Promise<any> {
  return eventually(`${name} to settle`, async () => {
    const view = await receiver.target(name);
    return view.inFlight === null && view.queued === null && view.lastAction !== null ? view : undefined;
  });
}

beforeAll(async () => {
  engine = await startDockerEngine();
  ollama = await createStandInContainer(engine, { name: 'ollama' });
  sqlite = await createStandInContainer(engine, { name: 'sqlite-ai' });
  slow = await createStandInContainer(engine, { name: 'slow', readyDelaySeconds: 2.5 });
  const readiness = (port: number) => `{type: http, url: "http://127.0.0.1:${port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}`;
  targets = [
    `ollama: {members: [{container: ollama}], readiness: ${readiness(ollama.port)}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 5}`,
    `sqlite: {members: [{container: sqlite-ai}], readiness: ${readiness(sqlite.port)}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 5}`,
    `slow: {members: [{container: slow}], readiness: {type: http, url: "http://127.0.0.1:${slow.port}/api/tags", timeout_seconds: 4, interval_seconds: 0.05}, min_running_seconds: 0, cooldown_seconds: 0}`,
  ].join('\n');
});

afterAll(async () => {
  await live?.close();
  await engine?.stop();
});

it('answers 503 while the engine is down, and acts on the re-sent notification once it is back', async () => {
  live = await startLiveReceiver({ engine, targets, dockerTimeoutSeconds: 1 });
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint: 'outage1' });

  await engine.halt();
  const refused = await live.webhook(body);
  expect(refused.status).toBe(503);
  expect(refused.body.error).toBe('docker_unavailable');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect((await live.request('GET', '/readyz')).status).toBe(503);
  expect((await live.request('GET', '/healthz')).status).toBe(200);
  expect(await live.metric('ai_dispatcher_webhook_requests_total', { outcome: 'unavailable' })).toBe(1);
  expect(await live.metric('ai_dispatcher_docker_up')).toBe(0);
  expect(await live.metric('ai_dispatcher_docker_errors_total')).toBeGreaterThan(0);

  // Alertmanager retries a 5xx with the same body: after the engine is back, it must act on it.
  await engine.restart();
  expect((await live.request('GET', '/readyz')).status).toBe(200);
  const accepted = await live.webhook(body);
  expect(accepted.status).toBe(202);
  expect(accepted.body.duplicates).toBe(0);
  expect(await settled(live, 'ollama')).toMatchObject({ observed: { running: true, ready: true }, lastAction: { result: 'success' } });
  expect(await running(ollama.id)).toBe(true);
  expect(await live.metric('ai_dispatcher_docker_up')).toBe(1);
});

it('answers 503 while the engine hangs (no answer within the Docker timeout), then recovers', async () => {
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'sqlite', fingerprint: 'hang1' });
  engine.freeze();
  let refused;
  const asked = Date.now();
  try {
    refused = await live!.webhook(body);
  } finally {
    engine.thaw();
  }
  expect(refused.status).toBe(503);
  expect(Date.now() - asked).toBeLessThan(5000);
  expect((await live!.webhook(body)).status).toBe(202);
  expect(await settled(live!, 'sqlite')).toMatchObject({ observed: { running: true, ready: true } });
  expect(await running(sqlite.id)).toBe(true);
});

it('reports a start cut off by the engine stopping mid-way as not ready, and retries it on the re-sent notification', async () => {
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'slow', fingerprint: 'midway1' });
  expect((await live!.webhook(body)).status).toBe(202);
  // Docker has started it; the receiver waits for /api/tags (2.5 s away) when the engine goes down.
  await eventually('the start to be in flight', async () => (await live!.target('slow')).inFlight === 'start' && (await running(slow.id)));
  await engine.halt();
  expect(await settled(live!, 'slow')).toMatchObject({ observed: { ready: false }, lastAction: { action: 'start', result: 'not_ready' } });
  expect(await live!.metric('ai_dispatcher_actions_total', { target: 'slow', action: 'start', result: 'not_ready' })).toBe(1);
  expect(await live!.metric('ai_dispatcher_readiness_wait_seconds_count', { target: 'slow', result: 'timeout' })).toBe(1);

  await engine.restart();
  // dockerd stopped the container when it went down; Alertmanager's next delivery of the same alert starts it again.
  expect(await running(slow.id)).toBe(false);
  const again = await live!.webhook(body);
  expect(again.status).toBe(202);
  expect(again.body.duplicates).toBe(0);
  expect(await settled(live!, 'slow')).toMatchObject({ observed: { running: true, ready: true }, lastAction: { result: 'success' } });
  await engine.docker.getContainer(slow.id).stop({ t: 5 });
});

it('reads the real state after a restart of the receiver, with one target running and one stopped', async () => {
  await engine.docker.getContainer(sqlite.id).stop({ t: 5 }).catch(() => undefined);
  await engine.docker.getContainer(ollama.id).start().catch(() => undefined);
  await waitForStandIn(ollama.port);
  await live!.close();

  live = await startLiveReceiver({ engine, targets });
  const since = Date.now();
  expect(await live.target('ollama')).toMatchObject({ observed: { running: true, ready: true }, inFlight: null, lastAction: null });
  expect(await live.target('sqlite')).toMatchObject({ observed: { running: false, ready: false }, inFlight: null, lastAction: null });
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'sqlite' })).toBe(0);

  // Both already where the alerts want them: nothing is started or stopped.
  await live.webhook(alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint: 'after-restart-1' }));
  await live.webhook(
    alertBody('AIServicesIdleTooLong-firing', { action: 'stop', target: 'sqlite', fingerprint: 'after-restart-2' }),
    'AIServicesIdleTooLong-firing',
  );
  expect(await settled(live, 'ollama')).toMatchObject({ lastAction: { action: 'start', result: 'noop' } });
  expect(await settled(live, 'sqlite')).toMatchObject({ lastAction: { action: 'stop', result: 'noop' } });
  expect((await containerEvents(engine, ollama.id, ['start'], since)).start).toBe(0);
  expect([await running(ollama.id), await running(sqlite.id)]).toEqual([true, false]);
  expect(await standInAnswers(ollama.port)).toBe(true);
});

it('shuts down cleanly with a start in flight: no new work, the wait is abandoned, the next receiver finds it running', async () => {
  await engine.docker.getContainer(slow.id).stop({ t: 5 }).catch(() => undefined);
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'slow', fingerprint: 'shutdown1' });
  expect((await live!.webhook(body)).status).toBe(202);
  await eventually('the start to be in flight', async () => (await live!.target('slow')).inFlight === 'start' && (await running(slow.id)));

  const closing = live!.receiver.close();
  const refused = await live!.webhook(alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint: 'shutdown2' }));
  expect(refused.status).toBe(503);
  expect(refused.body.error).toBe('shutting_down');
  const began = Date.now();
  await closing;
  // The readiness wait (2.5 s away) is abandoned at once, not waited out.
  expect(Date.now() - began).toBeLessThan(1500);
  await live!.close();

  live = await startLiveReceiver({ engine, targets });
  expect(await running(slow.id)).toBe(true);
  expect(await live.target('slow')).toMatchObject({ observed: { running: true }, inFlight: null });
  await waitForStandIn(slow.port);
});
