/**
 * A managed container removed by hand (docker rm -f): the receiver notices it, a start then fails with a
 * clear reason (metric, log, state) and is retried on every delivery without crashing, and once somebody
 * recreates the container the next delivery starts it, once.
 */
import { DockerEngine, buildStandInImage, createStandInContainer, startDockerEngine, waitForStandIn } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { freePort } from '../../../scripts/harness/free-port';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(60_000);

let engine: DockerEngine;
let live: LiveReceiver;
let port: number;

const logs = () => live.logLines.map((l) => JSON.parse(l) as Record<string, any>);

async function settledView(result: string): Promise<any> {
  return eventually(`a ${result} action`, async () => {
    const v = await live.target('ollama');
    return v.inFlight === null && v.queued === null && v.lastAction?.result === result ? v : undefined;
  });
}

beforeAll(async () => {
  engine = await startDockerEngine();
  await buildStandInImage(engine);
  port = await freePort();
  await createStandInContainer(engine, { name: 'removed-ollama', port, start: true });
  await waitForStandIn(port);
  live = await startLiveReceiver({
    engine,
    targets: `ollama: {members: [{container: removed-ollama}], readiness: {type: http, url: "http://127.0.0.1:${port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}, min_running_seconds: 0, cooldown_seconds: 0}`,
  });
});

afterAll(async () => {
  await live?.close();
  await engine?.stop();
});

it('notices the removal, fails each start with container_missing, and starts the recreated container once', async () => {
  expect(await live.target('ollama')).toMatchObject({ observed: { running: true, ready: true } });
  await engine.docker.getContainer('removed-ollama').remove({ force: true });

  const noticed = await eventually('the removal to be noticed', async () => {
    const v = await live.target('ollama');
    return v.observed.running === false ? v : undefined;
  });
  expect(noticed.members).toEqual([expect.objectContaining({ exists: false, running: false })]);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(0);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(0);
  expect(logs()).toContainEqual(expect.objectContaining({ msg: 'noticed a change made outside the receiver', target: 'ollama', running: false }));

  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', fingerprint: 'removed' });
  expect((await live.webhook(body)).status).toBe(202);
  expect(await settledView('failed')).toMatchObject({ lastAction: { action: 'start', reason: 'container_missing' } });
  // Every delivery tries again (a failure is not remembered as done), and fails the same way.
  const again = await live.webhook(body);
  expect(again.status).toBe(202);
  expect(again.body.duplicates).toBe(0);
  await eventually('the second failure', async () =>
    (await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'failed' })) === 2,
  );
  const failures = logs().filter((l) => l.msg === 'action finished' && l.result === 'failed');
  expect(failures[0]).toMatchObject({ level: 'warn', reason: 'container_missing', error: 'no container matches container "removed-ollama"' });
  expect((await live.request('GET', '/healthz')).status).toBe(200);

  // Somebody recreates it (docker compose up --no-start, say): the next delivery starts it.
  const since = Date.now();
  const recreated = await createStandInContainer(engine, { name: 'removed-ollama', port });
  const third = await live.webhook(body);
  expect(third.status).toBe(202);
  expect(await settledView('success')).toMatchObject({ observed: { running: true, ready: true } });
  expect(await live.webhook(body)).toMatchObject({ status: 200, body: { duplicates: 1 } });
  expect(await containerEvents(engine, recreated.id, ['start', 'die'], since)).toEqual({ start: 1, die: 0 });
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
});
