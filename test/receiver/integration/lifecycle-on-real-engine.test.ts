/**
 * The receiver on a real dockerd with the real dockerode controller, over real HTTP, driven by the
 * captured Alertmanager 0.25 bodies (with the contract's labels). Checked the way a user would:
 * Docker's state and events, the stand-in's /api/tags, /api/v1/targets and /metrics.
 */
import { DockerEngine, containerRunning, createStandInContainer, standInAnswers, startDockerEngine, waitForStandIn } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, groupedBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(60_000);

let engine: DockerEngine;
let live: LiveReceiver;
let ollama: { id: string; port: number };
let slow: { id: string; port: number };
let fingerprints = 0;

/** A new alert each time (new fingerprint): not a duplicate of an earlier delivery. */
const startAlert = (target: string) =>
  alertBody('PendingAIWorkflows-firing', { action: 'start', target, fingerprint: `start${(fingerprints += 1)}` });
const stopAlert = (target: string) =>
  alertBody('AIServicesIdleTooLong-firing', { action: 'stop', target, fingerprint: `stop${(fingerprints += 1)}` });

const running = (id: string) => containerRunning(engine, id);

/** Waits until the target has no action in flight or queued, and returns its view. */
async function settled(name: string): Promise<any> {
  return eventually(`${name} to settle`, async () => {
    const view = await live.target(name);
    return view.inFlight === null && view.queued === null && view.lastAction !== null ? view : undefined;
  });
}

async function stopDirectly(id: string): Promise<void> {
  await engine.docker.getContainer(id).stop({ t: 5 }).catch((e: { statusCode?: number }) => {
    if (e.statusCode !== 304) throw e;
  });
}

beforeAll(async () => {
  engine = await startDockerEngine();
  ollama = await createStandInContainer(engine, { name: 'it-ollama' });
  // Answers /api/tags only 1.5 s after it starts: its start stays in flight long enough to race with.
  slow = await createStandInContainer(engine, { name: 'it-slow', readyDelaySeconds: 1.5 });
  const readiness = (port: number) => `{type: http, url: "http://127.0.0.1:${port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}`;
  live = await startLiveReceiver({
    engine,
    targets: [
      `ollama: {members: [{container: it-ollama}], readiness: ${readiness(ollama.port)}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 5}`,
      `slow: {members: [{container: it-slow}], readiness: ${readiness(slow.port)}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 5}`,
      `absent: {members: [{container: it-absent}], readiness: {type: running}, min_running_seconds: 0, cooldown_seconds: 0}`,
      `composed: {members: [{compose: {project: it, service: ollama}}], readiness: {type: docker_health, timeout_seconds: 15, interval_seconds: 0.1}, min_running_seconds: 0, cooldown_seconds: 0}`,
    ].join('\n'),
  });
});

afterAll(async () => {
  await live?.close();
  await engine?.stop();
});

it('starts the target on PendingAIWorkflows, reports it ready once /api/tags answers, and stops it on AIServicesIdleTooLong', async () => {
  expect(await live.target('ollama')).toMatchObject({ observed: { running: false } });

  const started = await live.webhook(startAlert('ollama'));
  expect(started.status).toBe(202);
  expect(started.body.actions).toEqual([{ target: 'ollama', action: 'start', disposition: 'queued' }]);
  const afterStart = await settled('ollama');
  expect(afterStart).toMatchObject({ desired: 'running', observed: { running: true, ready: true }, lastAction: { action: 'start', result: 'success' } });
  expect(await running(ollama.id)).toBe(true);
  expect(await standInAnswers(ollama.port)).toBe(true);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_readiness_wait_seconds_count', { target: 'ollama', result: 'ready' })).toBe(1);

  const stopped = await live.webhook(stopAlert('ollama'), 'AIServicesIdleTooLong-firing');
  expect(stopped.status).toBe(202);
  expect(await settled('ollama')).toMatchObject({ desired: 'stopped', observed: { running: false }, lastAction: { action: 'stop', result: 'success' } });
  expect(await running(ollama.id)).toBe(false);
  expect(await standInAnswers(ollama.port)).toBe(false);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(0);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(0);
});

it('acts once on duplicate deliveries and on repeated alerts for a state that already holds', async () => {
  await stopDirectly(ollama.id);
  const since = Date.now();
  const body = startAlert('ollama');
  // Alertmanager re-sends while a request hangs, HA peers deliver the same notification: same alert, same bytes.
  const answers = await Promise.all([live.webhook(body), live.webhook(body), live.webhook(body)]);
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
  // Each extra delivery is either recognised as a duplicate or joins the start already queued.
  const queued = answers.flatMap((a) => a.body.actions).filter((a: { disposition: string }) => a.disposition === 'queued');
  expect(queued).toHaveLength(1);
  await settled('ollama');
  expect(await running(ollama.id)).toBe(true);
  expect((await live.webhook(body)).body.duplicates).toBe(1);

  // A different start alert while it runs: ensure-running finds nothing to do.
  expect((await live.webhook(startAlert('ollama'))).status).toBe(202);
  expect(await settled('ollama')).toMatchObject({ lastAction: { action: 'start', result: 'noop' }, observed: { running: true, ready: true } });
  expect((await containerEvents(engine, ollama.id, ['start'], since)).start).toBe(1);

  // The same for stop: two different idle alerts, one stop.
  await live.webhook(stopAlert('ollama'), 'AIServicesIdleTooLong-firing');
  await settled('ollama');
  await live.webhook(stopAlert('ollama'), 'AIServicesIdleTooLong-firing');
  expect(await settled('ollama')).toMatchObject({ lastAction: { action: 'stop', result: 'noop' }, observed: { running: false } });
  expect(await running(ollama.id)).toBe(false);
});

it('lets a start win over a stop that arrives while the start is in flight', async () => {
  await stopDirectly(slow.id);
  const since = Date.now();
  expect((await live.webhook(startAlert('slow'))).status).toBe(202);
  await eventually('the start to be in flight', async () => (await live.target('slow')).inFlight === 'start');
  const stop = await live.webhook(stopAlert('slow'), 'AIServicesIdleTooLong-firing');
  expect(stop.status).toBe(200);
  expect(stop.body.actions).toEqual([{ target: 'slow', action: 'stop', disposition: 'suppressed', reason: 'start_wins' }]);
  expect(await settled('slow')).toMatchObject({ observed: { running: true, ready: true }, lastAction: { action: 'start', result: 'success' } });
  expect(await running(slow.id)).toBe(true);
  expect(await standInAnswers(slow.port)).toBe(true);
  expect((await containerEvents(engine, slow.id, ['start'], since)).start).toBe(1);
});

it('lets a start win over a stop in the same notification, and over a stop sent at the same moment', async () => {
  await live.webhook(stopAlert('slow'), 'AIServicesIdleTooLong-firing');
  await settled('slow');
  expect(await running(slow.id)).toBe(false);

  const grouped = await live.webhook(groupedBody(stopAlert('slow'), startAlert('slow')));
  expect(grouped.status).toBe(202);
  expect(grouped.body.actions).toEqual(
    expect.arrayContaining([
      { target: 'slow', action: 'stop', disposition: 'suppressed', reason: 'start_wins' },
      { target: 'slow', action: 'start', disposition: 'queued' },
    ]),
  );
  expect(await settled('slow')).toMatchObject({ observed: { running: true, ready: true } });

  // Running now: a stop and a start at once. Whichever comes first, the target ends up running and ready.
  await Promise.all([live.webhook(stopAlert('slow'), 'AIServicesIdleTooLong-firing'), live.webhook(startAlert('slow'))]);
  expect(await settled('slow')).toMatchObject({ desired: 'running', observed: { running: true, ready: true } });
  expect(await running(slow.id)).toBe(true);
  await waitForStandIn(slow.port);
});

it('answers a defined 2xx for a configured container that does not exist, reports it, and starts it once it exists', async () => {
  const first = await live.webhook(startAlert('absent'));
  expect(first.status).toBe(202);
  expect(await settled('absent')).toMatchObject({
    observed: { running: false },
    members: [{ ref: { kind: 'container', name: 'it-absent' }, exists: false, running: false }],
    lastAction: { action: 'start', result: 'failed', reason: 'container_missing' },
  });
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'absent', action: 'start', result: 'failed' })).toBe(1);
  expect((await live.request('GET', '/healthz')).status).toBe(200);
  expect((await live.request('GET', '/readyz')).status).toBe(200);

  // Somebody creates it; the next notification (Alertmanager's repeat) starts it.
  const created = await createStandInContainer(engine, { name: 'it-absent' });
  expect((await live.webhook(startAlert('absent'))).status).toBe(202);
  expect(await settled('absent')).toMatchObject({ observed: { running: true }, lastAction: { result: 'success' } });
  expect(await running(created.id)).toBe(true);
  await stopDirectly(created.id);
});

it('notices a container started and stopped by hand', async () => {
  await stopDirectly(ollama.id);
  await eventually('stopped state', async () => (await live.target('ollama')).observed.running === false);

  await engine.docker.getContainer(ollama.id).start();
  await waitForStandIn(ollama.port);
  const view = await eventually('the hand-made start to be noticed', async () => {
    const v = await live.target('ollama');
    return v.observed.running === true && v.observed.ready === true ? v : undefined;
  });
  expect(view.inFlight).toBeNull();
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(1);
  expect(live.logLines.some((l) => l.includes('noticed a change made outside the receiver'))).toBe(true);

  await engine.docker.getContainer(ollama.id).stop({ t: 5 });
  await eventually('the hand-made stop to be noticed', async () => (await live.target('ollama')).observed.running === false);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(0);
});

it('starts a compose service found by its labels and waits for its Docker healthcheck', async () => {
  const { id } = await createStandInContainer(engine, {
    name: 'it-ollama-1',
    healthcheck: true,
    labels: { 'com.docker.compose.project': 'it', 'com.docker.compose.service': 'ollama' },
  });
  expect((await live.webhook(startAlert('composed'))).status).toBe(202);
  expect(await settled('composed')).toMatchObject({
    members: [{ ref: { kind: 'compose', project: 'it', service: 'ollama' }, exists: true }],
    observed: { running: true, ready: true },
    lastAction: { action: 'start', result: 'success' },
  });
  // Ready means Docker itself says healthy, not merely running.
  expect((await engine.docker.getContainer(id).inspect()).State.Health?.Status).toBe('healthy');
  await live.webhook(stopAlert('composed'), 'AIServicesIdleTooLong-firing');
  expect(await settled('composed')).toMatchObject({ observed: { running: false }, lastAction: { action: 'stop', result: 'success' } });
  expect(await running(id)).toBe(false);
});

it('wakes a target for a client: the answer comes once /api/tags answers', async () => {
  await stopDirectly(slow.id);
  const woke = await live.request('POST', '/api/v1/targets/slow/wake');
  expect(woke.status).toBe(200);
  expect(woke.body).toMatchObject({ target: 'slow', ready: true, result: 'success' });
  expect(await standInAnswers(slow.port)).toBe(true);
});
