/**
 * A target that Docker runs but that never becomes ready (its /api/tags never answers): the start is reported
 * not ready (metric, log, state, wake answer), each later delivery retries the readiness check, and the
 * container is never started a second time.
 */
import { DockerEngine, createStandInContainer, startDockerEngine } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(60_000);

let engine: DockerEngine;
let live: LiveReceiver;
let stuck: { id: string; port: number };

async function settledView(): Promise<any> {
  return eventually('the action to end', async () => {
    const v = await live.target('stuck');
    return v.inFlight === null && v.queued === null && v.lastAction !== null ? v : undefined;
  });
}

beforeAll(async () => {
  engine = await startDockerEngine();
  // httpd would start only after an hour.
  stuck = await createStandInContainer(engine, { name: 'never-ready', readyDelaySeconds: 3600 });
  live = await startLiveReceiver({
    engine,
    targets: `stuck: {members: [{container: never-ready}], readiness: {type: http, url: "http://127.0.0.1:${stuck.port}/api/tags", timeout_seconds: 1.5, interval_seconds: 0.1, probe_timeout_seconds: 0.5}, min_running_seconds: 0, cooldown_seconds: 0}`,
  });
});

afterAll(async () => {
  await live?.close();
  await engine?.stop();
});

it('reports not_ready, retries readiness on each later delivery, never starts the running container again', async () => {
  const since = Date.now();
  const body = alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'stuck', fingerprint: 'never-ready' });
  expect((await live.webhook(body)).status).toBe(202);
  expect(await settledView()).toMatchObject({
    observed: { running: true, ready: false },
    lastAction: { action: 'start', result: 'not_ready', reason: 'not ready within 1.5 s' },
  });
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'stuck', action: 'start', result: 'not_ready' })).toBe(1);
  expect(await live.metric('ai_dispatcher_readiness_wait_seconds_count', { target: 'stuck', result: 'timeout' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'stuck' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'stuck' })).toBe(0);

  // The same notification again (Alertmanager's repeat): not swallowed as a duplicate after a failure.
  const again = await live.webhook(body);
  expect(again.status).toBe(202);
  expect(again.body.duplicates).toBe(0);
  await eventually('the second attempt to end', async () =>
    (await live.metric('ai_dispatcher_actions_total', { target: 'stuck', action: 'start', result: 'not_ready' })) === 2,
  );

  // The wake call answers 503 (not ready) after its own timeout instead of hanging.
  const woken = await live.request('POST', '/api/v1/targets/stuck/wake?timeout_seconds=1');
  expect(woken.status).toBe(503);
  expect(woken.body).toMatchObject({ target: 'stuck', ready: false });
  await settledView();

  expect(await containerEvents(engine, stuck.id, ['start', 'die'], since)).toEqual({ start: 1, die: 0 });
  const warnings = live.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'action finished' && l.result === 'not_ready');
  expect(warnings.length).toBeGreaterThanOrEqual(2);
  expect(warnings[0]).toMatchObject({ level: 'warn', target: 'stuck', action: 'start', ready: false });
});
