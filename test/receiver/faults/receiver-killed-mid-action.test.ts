/**
 * The receiver process (the built CLI) is killed with SIGKILL in the middle of an action and started again:
 * it reads the truth from Docker, the re-sent notification does nothing more, nothing is done twice.
 */
import { DockerEngine, STAND_IN_IMAGE, containerRunning, createStandInContainer, startDockerEngine } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { alertBody } from '../../../scripts/harness/live-receiver';
import { ReceiverProcess, receiverConfigYaml, startReceiverProcess } from '../../../scripts/harness/receiver-process';

jest.setTimeout(90_000);

const TOKEN = 'killed-receiver-test-token-0123456789';
let engine: DockerEngine;
let config: string;
let rx: ReceiverProcess | undefined;
let slow: { id: string; port: number };
let stubborn: string;

const running = (id: string) => containerRunning(engine, id);

beforeAll(async () => {
  engine = await startDockerEngine();
  // Answers /api/tags 3 s after it starts: the receiver's start is still waiting for it when it is killed.
  slow = await createStandInContainer(engine, { name: 'kill-slow', readyDelaySeconds: 3 });
  // Ignores SIGTERM: `docker stop -t 3` takes 3 s and ends with SIGKILL, so the stop is in flight for 3 s.
  const created = await engine.docker.createContainer({
    name: 'kill-stubborn',
    Image: STAND_IN_IMAGE,
    Cmd: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'],
    HostConfig: { NetworkMode: 'host' },
  });
  stubborn = created.id;
  await created.start();
  config = receiverConfigYaml({
    socketPath: engine.socketPath,
    dockerTimeoutSeconds: 2,
    targets: [
      `slow: {members: [{container: kill-slow}], readiness: {type: http, url: "http://127.0.0.1:${slow.port}/api/tags", timeout_seconds: 15, interval_seconds: 0.1}, min_running_seconds: 0, cooldown_seconds: 0}`,
      'stubborn: {members: [{container: kill-stubborn}], readiness: {type: running}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 3}',
    ].join('\n'),
  });
});

afterAll(async () => {
  rx?.kill('SIGKILL');
  await rx?.exited;
  await engine?.stop();
});

it('killed while a start waits for readiness: the next process finds it running and ready, the re-sent alert does not start it again', async () => {
  const since = Date.now();
  rx = await startReceiverProcess({ config, token: TOKEN });
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'slow', fingerprint: 'kill-start' });
  expect((await rx.webhook(body)).status).toBe(202);
  await eventually('Docker to run it while the receiver waits', async () => (await running(slow.id)) && (await rx!.request('GET', '/api/v1/targets/slow')).body.inFlight === 'start');

  rx.kill('SIGKILL');
  expect(await rx.exited).toBe('SIGKILL');
  expect(rx.logLines().some((l) => l.msg === 'action finished')).toBe(false);

  rx = await startReceiverProcess({ config, token: TOKEN });
  const first = await eventually('the state read from Docker', async () =>
    rx!.logLines().find((l) => l.msg === 'target state read from docker' && l.target === 'slow'),
  );
  expect(first).toMatchObject({ running: true });
  // Alertmanager re-sends (repeat_interval, or a retry of a request that never got its answer).
  const again = await rx.webhook(body);
  expect(again.status).toBe(202);
  await eventually('ready', async () => {
    const view = (await rx!.request('GET', '/api/v1/targets/slow')).body;
    return view.inFlight === null && view.observed.ready === true && view.lastAction !== null ? view : undefined;
  });

  expect(await containerEvents(engine, slow.id, ['start', 'die'], since)).toEqual({ start: 1, die: 0 });
  expect(await rx.metric('ai_dispatcher_actions_total', { target: 'slow', action: 'start', result: 'noop' })).toBe(1);
  expect(await rx.metric('ai_dispatcher_actions_total', { target: 'slow', action: 'start', result: 'success' })).toBe(0);
  expect(await rx.metric('ai_dispatcher_target_running', { target: 'slow' })).toBe(1);
  expect(await rx.metric('ai_dispatcher_target_ready', { target: 'slow' })).toBe(1);
  expect(rx.logLines().filter((l) => l.msg === 'action finished')).toEqual([
    expect.objectContaining({ target: 'slow', action: 'start', result: 'noop', ready: true }),
  ]);
  expect(rx.output()).not.toContain(TOKEN);
});

it('killed while a stop is in flight: Docker finishes the stop, the next process finds it stopped, the re-sent alert stops nothing', async () => {
  expect(await running(stubborn)).toBe(true);
  const since = Date.now();
  const body = alertBody('AIServicesIdleTooLong-firing', { action: 'stop', target: 'stubborn', fingerprint: 'kill-stop' });
  expect((await rx!.webhook(body)).status).toBe(202);
  await eventually('the stop to be in flight', async () => (await rx!.request('GET', '/api/v1/targets/stubborn')).body.inFlight === 'stop');
  await new Promise((resolve) => setTimeout(resolve, 500));

  rx!.kill('SIGKILL');
  expect(await rx!.exited).toBe('SIGKILL');
  // The engine goes on with the stop it was asked for (SIGTERM ignored, SIGKILL after 3 s).
  await eventually('Docker to finish the stop', async () => !(await running(stubborn)), 10_000);

  rx = await startReceiverProcess({ config, token: TOKEN });
  await eventually('the state read from Docker', async () =>
    rx!.logLines().find((l) => l.msg === 'target state read from docker' && l.target === 'stubborn' && l.running === false),
  );
  expect((await rx.webhook(body, {})).status).toBe(202);
  await eventually('the stop to settle', async () => (await rx!.request('GET', '/api/v1/targets/stubborn')).body.lastAction?.result);

  expect(await containerEvents(engine, stubborn, ['start', 'die', 'kill'], since)).toEqual({ start: 0, die: 1, kill: 2 });
  expect(await rx.metric('ai_dispatcher_actions_total', { target: 'stubborn', action: 'stop', result: 'noop' })).toBe(1);
  expect(await rx.metric('ai_dispatcher_target_running', { target: 'stubborn' })).toBe(0);
  await rx.stop();
});
