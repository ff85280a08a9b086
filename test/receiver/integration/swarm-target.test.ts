/**
 * The receiver (createApp + the dockerode controller, over real HTTP) with Swarm services as targets, on
 * a private single-node swarm. The same paths as for containers: webhook start -> tasks running -> ready
 * over HTTP -> /api/v1/targets and /metrics say so -> stop -> no task left; cooldowns; a change by hand;
 * a service whose tasks get rejected.
 */
import { buildStandInImage, standInAnswers } from '../../../scripts/harness/docker-engine';
import { freePort } from '../../../scripts/harness/free-port';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';
import { createStandInService, liveTasks, serviceReplicas, startSwarmEngine, type SwarmEngine } from '../../../scripts/harness/swarm';

jest.setTimeout(60_000);

let swarm: SwarmEngine;
let live: LiveReceiver;
let ollamaPort: number;
let guardedPort: number;
let fingerprints = 0;

const startAlert = (target: string) =>
  alertBody('PendingAIWorkflows-firing', { action: 'start', target, fingerprint: `swarm-start${(fingerprints += 1)}` });
const stopAlert = (target: string) =>
  alertBody('AIServicesIdleTooLong-firing', { action: 'stop', target, fingerprint: `swarm-stop${(fingerprints += 1)}` });

async function settled(name: string): Promise<any> {
  return eventually(`${name} to settle`, async () => {
    const view = await live.target(name);
    return view.inFlight === null && view.queued === null && view.lastAction !== null ? view : undefined;
  });
}

async function runningTasks(service: string): Promise<number> {
  return (await liveTasks(swarm.engine, service)).filter((t) => t.Status.State === 'running').length;
}

beforeAll(async () => {
  swarm = await startSwarmEngine();
  await buildStandInImage(swarm.engine);
  [ollamaPort, guardedPort] = await Promise.all([freePort(), freePort()]);
  await createStandInService(swarm.engine, { name: 'svc-ollama', port: ollamaPort, replicas: 0 });
  await createStandInService(swarm.engine, { name: 'svc-guarded', port: guardedPort, replicas: 0 });
  await createStandInService(swarm.engine, { name: 'svc-broken', port: await freePort(), replicas: 0, image: 'ai-dispatcher/not-here:missing' });
  const readiness = (port: number) => `{type: http, url: "http://127.0.0.1:${port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}`;
  live = await startLiveReceiver({
    engine: swarm.engine,
    targets: [
      `ollama: {members: [{swarm_service: svc-ollama, replicas: 1}], readiness: ${readiness(ollamaPort)}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 5}`,
      `guarded: {members: [{swarm_service: svc-guarded}], readiness: ${readiness(guardedPort)}, min_running_seconds: 30, cooldown_seconds: 30, stop_timeout_seconds: 5}`,
      `broken: {members: [{swarm_service: svc-broken}], readiness: {type: running}, min_running_seconds: 0, cooldown_seconds: 0}`,
    ].join('\n'),
  });
});

afterAll(async () => {
  await live?.close();
  await swarm?.stop();
});

it('starts the service on PendingAIWorkflows, reports it ready once /api/tags answers, and scales it to 0 on AIServicesIdleTooLong', async () => {
  expect(await live.target('ollama')).toMatchObject({
    observed: { running: false },
    members: [{ ref: { kind: 'swarm', service: 'svc-ollama', replicas: 1 }, exists: true, running: false, replicas: { desired: 0, running: 0 } }],
  });

  const started = await live.webhook(startAlert('ollama'));
  expect(started.status).toBe(202);
  expect(started.body.actions).toEqual([{ target: 'ollama', action: 'start', disposition: 'queued' }]);
  expect(await settled('ollama')).toMatchObject({
    desired: 'running',
    observed: { running: true, ready: true },
    lastAction: { action: 'start', result: 'success' },
  });
  expect(await serviceReplicas(swarm.engine, 'svc-ollama')).toMatchObject({ replicas: 1 });
  expect(await runningTasks('svc-ollama')).toBe(1);
  expect(await standInAnswers(ollamaPort)).toBe(true);

  const list = await live.request('GET', '/api/v1/targets');
  expect(list.status).toBe(200);
  expect(list.body.targets.find((t: { name: string }) => t.name === 'ollama')).toMatchObject({
    observed: { running: true, ready: true },
    members: [{ ref: { kind: 'swarm', service: 'svc-ollama' }, exists: true, running: true, replicas: { desired: 1, running: 1 } }],
  });
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(1);
  expect(await live.metric('ai_dispatcher_readiness_wait_seconds_count', { target: 'ollama', result: 'ready' })).toBe(1);

  // Another start alert while it runs: ensure-running finds nothing to do, and the spec is not touched.
  const version = (await serviceReplicas(swarm.engine, 'svc-ollama')).version;
  await live.webhook(startAlert('ollama'));
  expect(await settled('ollama')).toMatchObject({ lastAction: { action: 'start', result: 'noop' }, observed: { running: true, ready: true } });
  expect((await serviceReplicas(swarm.engine, 'svc-ollama')).version).toBe(version);

  const stopped = await live.webhook(stopAlert('ollama'), 'AIServicesIdleTooLong-firing');
  expect(stopped.status).toBe(202);
  expect(await settled('ollama')).toMatchObject({
    desired: 'stopped',
    observed: { running: false },
    lastAction: { action: 'stop', result: 'success' },
    members: [{ running: false, replicas: { desired: 0, running: 0 } }],
  });
  // The stop finished only once no task was left.
  expect(await liveTasks(swarm.engine, 'svc-ollama')).toEqual([]);
  expect(await serviceReplicas(swarm.engine, 'svc-ollama')).toMatchObject({ replicas: 0 });
  expect(await standInAnswers(ollamaPort)).toBe(false);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'success' })).toBe(1);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(0);
  expect(await live.metric('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(0);
});

it('keeps the minimum running time and the cooldown: an idle alert right after a start is dropped, a manual stop is not', async () => {
  await live.webhook(startAlert('guarded'));
  expect(await settled('guarded')).toMatchObject({ observed: { running: true, ready: true }, lastAction: { result: 'success' } });

  await live.webhook(stopAlert('guarded'), 'AIServicesIdleTooLong-firing');
  const view = await settled('guarded');
  expect(view).toMatchObject({ lastAction: { action: 'stop', result: 'suppressed' }, observed: { running: true } });
  expect(view.cooldownRemainingSeconds).toBeGreaterThan(20);
  expect(view.minRunningRemainingSeconds).toBeGreaterThan(20);
  // The reason names the guard that ends last: a stop may come only then.
  const last = view.minRunningRemainingSeconds >= view.cooldownRemainingSeconds ? 'min_running_time' : 'cooldown';
  expect(view.lastAction.reason).toMatch(new RegExp(`^${last} \\(\\d+(\\.\\d)? s left\\)$`));
  expect(await live.metric('ai_dispatcher_target_cooldown_remaining_seconds', { target: 'guarded' })).toBeGreaterThan(20);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'guarded', action: 'stop', result: 'suppressed' })).toBe(1);
  expect(await runningTasks('svc-guarded')).toBe(1);

  // An operator's manual stop skips the guards.
  const manual = await live.request('POST', '/api/v1/targets/guarded/stop');
  expect(manual.status).toBeLessThan(300);
  expect(await settled('guarded')).toMatchObject({ lastAction: { action: 'stop', result: 'success', origin: 'manual' }, observed: { running: false } });
  expect(await liveTasks(swarm.engine, 'svc-guarded')).toEqual([]);
});

it('notices a service scaled by hand', async () => {
  const set = async (replicas: number) => {
    const info = await swarm.engine.docker.getService('svc-ollama').inspect();
    await swarm.engine.docker.getService(info.ID).update({
      _query: { version: info.Version.Index },
      _body: { ...info.Spec, Mode: { Replicated: { Replicas: replicas } } },
    } as never);
  };
  await set(1);
  await eventually('the hand-made scale-up to be noticed', async () => {
    const v = await live.target('ollama');
    return v.observed.running === true && v.observed.ready === true;
  });
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);

  await set(0);
  await eventually('the hand-made scale-down to be noticed', async () => (await live.target('ollama')).observed.running === false);
  expect(await live.metric('ai_dispatcher_target_running', { target: 'ollama' })).toBe(0);
  expect(live.logLines.some((l) => l.includes('noticed a change made outside the receiver') && l.includes('"ollama"'))).toBe(true);
});

it('reports a start whose tasks are rejected (image missing) as failed, with the task error, and leaves the service at 0', async () => {
  expect((await live.webhook(startAlert('broken'))).status).toBe(202);
  const view = await settled('broken');
  expect(view).toMatchObject({ observed: { running: false }, lastAction: { action: 'start', result: 'failed', reason: 'docker_error' } });
  expect(view.lastAction.error).toMatch(/task \w+ rejected: .*No such image: ai-dispatcher\/not-here:missing.*scaled back to 0/);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'broken', action: 'start', result: 'failed' })).toBe(1);
  expect(await serviceReplicas(swarm.engine, 'svc-broken')).toMatchObject({ replicas: 0 });
  expect(live.logLines.some((l) => l.includes('"action finished"') && l.includes('No such image'))).toBe(true);
});
