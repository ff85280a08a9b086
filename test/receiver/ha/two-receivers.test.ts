/**
 * Two receivers (for availability) against the same real dockerd, each with its own state and metrics.
 * The model (receiver/README.md, "Reliability"): Docker's state is the single source of truth and every action
 * is an idempotent ensure, so the same notification at both acts once on the engine; the minimum running
 * time is measured from Docker's StartedAt, which both read, so one receiver cannot stop what the other has
 * just started: a stop/start tug of war is bounded by min_running_seconds, and the start wins at the end.
 */
import { DockerEngine, containerRunning, createStandInContainer, startDockerEngine } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(90_000);

const MIN_RUNNING_SECONDS = 3;

let engine: DockerEngine;
let a: LiveReceiver;
let b: LiveReceiver;
let ollama: { id: string; port: number };
let alerts = 0;

const startAlert = (fingerprint = `start-${(alerts += 1)}`) =>
  alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint });
const stopAlert = (fingerprint = `stop-${(alerts += 1)}`) =>
  alertBody('AIServicesIdleTooLong-firing', { action: 'stop', target: 'ollama', fingerprint });

const running = () => containerRunning(engine, ollama.id);

async function idle(receiver: LiveReceiver): Promise<boolean> {
  const view = await receiver.target('ollama');
  return view.inFlight === null && view.queued === null;
}

async function sum(metric: string, labels: Record<string, string>): Promise<number> {
  return ((await a.metric(metric, labels)) ?? 0) + ((await b.metric(metric, labels)) ?? 0);
}

beforeAll(async () => {
  engine = await startDockerEngine();
  ollama = await createStandInContainer(engine, { name: 'ha2-ollama' });
  const targets = `ollama: {members: [{container: ha2-ollama}], readiness: {type: http, url: "http://127.0.0.1:${ollama.port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}, min_running_seconds: ${MIN_RUNNING_SECONDS}, cooldown_seconds: 1, stop_timeout_seconds: 5}`;
  [a, b] = await Promise.all([startLiveReceiver({ engine, targets }), startLiveReceiver({ engine, targets })]);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await engine?.stop();
});

it('the same start at both receivers at once starts the container once, and both report it running and ready', async () => {
  const since = Date.now();
  const body = startAlert('same-start');
  const answers = await Promise.all([a.webhook(body), b.webhook(body)]);
  expect(answers.map((r) => r.status)).toEqual([202, 202]);
  await eventually('both to settle', async () => (await idle(a)) && (await idle(b)) && (await running()));

  expect(await containerEvents(engine, ollama.id, ['start', 'die'], since)).toEqual({ start: 1, die: 0 });
  for (const receiver of [a, b]) {
    expect(await receiver.target('ollama')).toMatchObject({ observed: { running: true, ready: true } });
  }
  // Each receiver counts its ensure as done. The second start call gets 304 (noop) when it reaches the engine after
  // the start has finished, 204 (success) when it comes while the start is under way: the engine checks "already
  // running" before it waits for the container's lock. Seen in CI: 1 start event, 2 successes. Docker's events
  // above are the count of what the engine did.
  const success = await sum('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' });
  const noop = await sum('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'noop' });
  expect(success + noop).toBe(2);
  expect(success).toBeGreaterThanOrEqual(1);
});

it('the same stop at both receivers at once stops the container once', async () => {
  // Past the minimum running time (from Docker's StartedAt) and the cooldown.
  await new Promise((resolve) => setTimeout(resolve, MIN_RUNNING_SECONDS * 1000 + 200));
  const since = Date.now();
  const body = stopAlert('same-stop');
  const answers = await Promise.all([a.webhook(body, 'AIServicesIdleTooLong-firing'), b.webhook(body, 'AIServicesIdleTooLong-firing')]);
  expect(answers.map((r) => r.status)).toEqual([202, 202]);
  await eventually('both to settle', async () => (await idle(a)) && (await idle(b)) && !(await running()));

  expect(await containerEvents(engine, ollama.id, ['start', 'die'], since)).toEqual({ start: 0, die: 1 });
  // Docker answers both stop calls of a container that was running when each was sent with 204 (not 304):
  // each receiver counts its ensure as done; the engine stopped it once.
  const done = (await sum('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'success' })) +
    (await sum('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'noop' }));
  expect(done).toBe(2);
  for (const receiver of [a, b]) expect(await receiver.target('ollama')).toMatchObject({ observed: { running: false } });
});

it('stops at one receiver and starts at the other, every 300 ms for 9 s: no ping-pong, and the repeated start wins', async () => {
  const since = Date.now();
  const windowMs = 9000;
  const statuses: number[] = [];
  while (Date.now() - since < windowMs) {
    const [stopped, started] = await Promise.all([a.webhook(stopAlert(), 'AIServicesIdleTooLong-firing'), b.webhook(startAlert())]);
    statuses.push(stopped.status, started.status);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await eventually('both to settle', async () => (await idle(a)) && (await idle(b)));
  const elapsed = (Date.now() - since) / 1000;

  expect(statuses.every((s) => s === 200 || s === 202)).toBe(true);
  const events = await containerEvents(engine, ollama.id, ['start', 'die'], since);
  // A stop needs MIN_RUNNING_SECONDS of running by Docker's own start time, whoever started it.
  expect(events.die).toBeLessThanOrEqual(Math.floor(elapsed / MIN_RUNNING_SECONDS) + 1);
  expect(events.start).toBeLessThanOrEqual(events.die + 1);
  expect(events.start).toBeGreaterThanOrEqual(1);
  // Receiver A says why it did not stop: the guard dropped its stops.
  expect(await a.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'suppressed' })).toBeGreaterThan(0);
  const suppressed = a.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'action finished' && l.result === 'suppressed');
  expect(suppressed[0].reason).toMatch(/min_running_time|cooldown/);

  // The start alert still fires: its next delivery (to either receiver) leaves the target running.
  expect([200, 202]).toContain((await a.webhook(startAlert())).status);
  await eventually('the target to run and be ready', async () => (await idle(a)) && (await running()) && (await a.target('ollama')).observed.ready);
});
