import request from 'supertest';
import type { Clock } from '../../../receiver/src/clock';
import { ShuttingDownError } from '../../../receiver/src/lifecycle/submission';
import { fixtureBytes, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
import { ManualClock } from '../../support/manual-clock';
import { FakeDocker } from '../../support/fake-docker';
import { TEST_TOKEN, buildClockedReceiver, buildTestReceiver, guardedYaml, settled } from '../../support/receiver-app';

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
const startBody = () => JSON.parse(withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start'));
const stopBody = () => JSON.parse(withContractLabels(fixtureBytes('AIServicesIdleTooLong-firing.json'), 'stop'));
/** A later occurrence of the alert (new startsAt), so that dedupe does not hide it. */
const again = (body: ReturnType<typeof startBody>, n: number) => {
  body.alerts[0].startsAt = `2026-11-25T21:0${n}:00Z`;
  return body;
};

describe('no flapping', () => {
  test('an idle stop within the minimum running time is dropped (suppressed), and allowed after it', async () => {
    const { r, docker, clock, hook } = buildClockedReceiver();
    const manual = clock as ManualClock;
    await hook(startBody());
    await settled(r);
    manual.advance(120_000);
    await hook(stopBody());
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ action: 'stop', result: 'suppressed', reason: 'min_running_time (480 s left)' });
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'stop', result: 'suppressed' })).toBe(1);
    manual.advance(480_000);
    await hook(again(stopBody(), 1));
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(false);
  });

  test('a suppressed stop is not remembered as done: the first repeat of the same alert after the guard acts', async () => {
    const { r, docker, clock, hook } = buildClockedReceiver();
    const manual = clock as ManualClock;
    await hook(startBody());
    await settled(r);
    manual.advance(590_000);
    // Alertmanager's repeats carry the same fingerprint and startsAt: within dedupe_window_seconds (120 s) they
    // would be dropped as duplicates if the suppressed stop had been remembered.
    expect((await hook(stopBody())).body.actions).toEqual([{ target: 'ollama', action: 'stop', disposition: 'queued' }]);
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'suppressed', reason: 'min_running_time (10 s left)' });
    manual.advance(5_000);
    const early = await hook(stopBody());
    expect(early.body.duplicates).toBe(0);
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'suppressed', reason: 'min_running_time (5 s left)' });
    manual.advance(5_000);
    const repeat = await hook(stopBody());
    expect(repeat.body).toMatchObject({ duplicates: 0, actions: [{ target: 'ollama', action: 'stop', disposition: 'queued' }] });
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(false);
    // Done now: the next repeat is a duplicate.
    expect((await hook(stopBody())).body.duplicates).toBe(1);
  });

  test('the remaining time of a suppressed stop is the time until the stop may happen, never "0 s left"', async () => {
    const { r, clock, hook } = buildClockedReceiver({ yaml: guardedYaml().replace('min_running_seconds: 600', 'min_running_seconds: 30').replace('cooldown_seconds: 60', 'cooldown_seconds: 300') });
    const manual = clock as ManualClock;
    await hook(startBody());
    await settled(r);
    // Minimum running time left: 20 s; cooldown left: 290 s. The stop may happen in 290 s.
    manual.advance(10_000);
    await hook(stopBody());
    await settled(r);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'suppressed', reason: 'cooldown (290 s left)' });
    // 20 ms left: says so (rounded up), not "0 s left".
    manual.advance(289_980);
    await hook(stopBody());
    await settled(r);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'suppressed', reason: 'cooldown (0.1 s left)' });
  });

  test('an idle stop right after a transition is dropped while the cooldown lasts', async () => {
    const { r, docker, clock, hook } = buildClockedReceiver({ yaml: guardedYaml().replace('min_running_seconds: 600', 'min_running_seconds: 0') });
    await hook(startBody());
    await settled(r);
    (clock as ManualClock).advance(10_000);
    await hook(stopBody());
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'suppressed', reason: 'cooldown (50 s left)' });
  });

  test('a start within the cooldown waits for it to end, then starts (pending work is not stranded)', async () => {
    const { r, docker, clock, hook } = buildClockedReceiver({ running: true, yaml: guardedYaml().replace('min_running_seconds: 600', 'min_running_seconds: 0') });
    const before = clock.now();
    await r.manager.refresh();
    (clock as ManualClock).advance(100_000);
    await hook(stopBody());
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(false);
    await hook(startBody());
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'start waits for the cooldown', wait_seconds: 60 }));
    expect(clock.now() - before).toBeGreaterThanOrEqual(160_000);
  });

  test('an action\'s duration is measured on the injected clock: the start that waited out the cooldown took 60 s', async () => {
    const { r, clock, hook } = buildClockedReceiver({ running: true, yaml: guardedYaml().replace('min_running_seconds: 600', 'min_running_seconds: 0') });
    await r.manager.refresh();
    (clock as ManualClock).advance(100_000);
    await hook(stopBody());
    await settled(r);
    await hook(startBody());
    await settled(r);
    expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'action finished', action: 'start', result: 'success', duration_seconds: 60 }));
    const histogram = await r.registry.getSingleMetric('ai_dispatcher_action_duration_seconds')!.get();
    const sum = histogram.values.find((v) => (v as { metricName?: string }).metricName === 'ai_dispatcher_action_duration_seconds_sum' && v.labels.action === 'start');
    expect(sum?.value).toBe(60);
    expect(r.manager.view('ollama').lastAction?.at).toBe(new Date(clock.now()).toISOString());
  });

  test('a wake joining a start that waits out the cooldown skips the wait', async () => {
    const released: Array<() => void> = [];
    const manual = new ManualClock();
    const heldClock: Clock = {
      now: () => manual.now(),
      sleep: (_ms, signal) =>
        new Promise<void>((resolve, reject) => {
          released.push(resolve);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    };
    const { r, docker, hook } = buildClockedReceiver({ clock: heldClock, running: true, yaml: guardedYaml().replace('min_running_seconds: 600', 'min_running_seconds: 0') });
    manual.advance(100_000);
    await hook(stopBody());
    await settled(r);
    await hook(startBody());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.manager.view('ollama').inFlight).toBe('start');
    expect(docker.isRunning('ollama')).toBe(false);
    const woke = await request(r.app).post('/api/v1/targets/ollama/wake').set(auth);
    expect(woke.status).toBe(200);
    expect(woke.body).toMatchObject({ ready: true, result: 'success' });
    expect(docker.isRunning('ollama')).toBe(true);
    expect(released).toHaveLength(1);
  });

  test('cooldown remaining is exported as a metric and counts down', async () => {
    const { r, clock, hook } = buildClockedReceiver();
    await hook(startBody());
    await settled(r);
    expect(await r.metricValue('ai_dispatcher_target_cooldown_remaining_seconds', { target: 'ollama' })).toBe(60);
    (clock as ManualClock).advance(45_000);
    expect(await r.metricValue('ai_dispatcher_target_cooldown_remaining_seconds', { target: 'ollama' })).toBe(15);
    (clock as ManualClock).advance(60_000);
    expect(await r.metricValue('ai_dispatcher_target_cooldown_remaining_seconds', { target: 'ollama' })).toBe(0);
    expect(await r.metricValue('ai_dispatcher_target_last_transition_timestamp_seconds', { target: 'ollama' })).toBe(
      (clock.now() - 105_000) / 1000,
    );
  });
});

describe('truth from Docker', () => {
  test('start() reads every target\'s real state before anything else', async () => {
    const { r, docker } = buildClockedReceiver({ running: true });
    await r.start();
    expect(docker.calls.map((c) => c.op)).toEqual(['inspect', 'inspect']);
    expect(await r.metricValue('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(1);
    expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'target state read from docker', target: 'ollama', running: true }));
    await r.close();
  });

  test('a container started by hand is noticed at the next refresh, and its start counts for the cooldown', async () => {
    const { r, docker, clock } = buildClockedReceiver();
    await r.manager.refresh();
    expect(r.manager.view('ollama').observed.running).toBe(false);
    docker.setRunning('ollama', true);
    docker.setRunning('sqlite-ai', true);
    await r.manager.refresh();
    const view = r.manager.view('ollama');
    expect(view.observed.running).toBe(true);
    expect(view.lastTransitionAt).toBe(new Date(clock.now()).toISOString());
    expect(view.cooldownRemainingSeconds).toBe(60);
    expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'noticed a change made outside the receiver', target: 'ollama', running: true }));
    expect(docker.mutations()).toEqual([]);
  });

  test('a container stopped by hand is started again by the next start alert', async () => {
    const { r, docker, clock, hook } = buildClockedReceiver({ yaml: guardedYaml().replace('cooldown_seconds: 60', 'cooldown_seconds: 0') });
    await hook(startBody());
    await settled(r);
    docker.setRunning('ollama', false);
    (clock as ManualClock).advance(1000);
    await hook(again(startBody(), 2));
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(docker.mutations().filter((c) => c.op === 'start' && c.ref === 'ollama')).toHaveLength(2);
  });

  test('the engine lost in the middle of an action: failed, docker_up 0, and the same alert acts when it comes again', async () => {
    const { r, docker, hook } = buildClockedReceiver({ yaml: guardedYaml().replace('cooldown_seconds: 60', 'cooldown_seconds: 0') });
    let open!: () => void;
    docker.gate = new Promise<void>((resolve) => (open = resolve));
    await hook(startBody());
    docker.reachable = false;
    open();
    await settled(r);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'failed', reason: 'docker_unavailable' });
    expect(await r.metricValue('ai_dispatcher_docker_up')).toBe(0);
    expect(await r.metricValue('ai_dispatcher_docker_errors_total', { operation: 'start' })).toBe(1);
    docker.gate = undefined;
    docker.reachable = true;
    expect((await hook(startBody())).status).toBe(202);
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
  });

  test('docker_health readiness waits for the healthcheck to pass', async () => {
    const docker = new FakeDocker().add('ollama');
    docker.healthOnStart = 'starting';
    const r = buildTestReceiver({
      docker,
      yaml: 'targets: {ollama: {members: [{container: ollama}], readiness: {type: docker_health, interval_seconds: 0.02, timeout_seconds: 5}, cooldown_seconds: 0}}',
    });
    const woke = request(r.app).post('/api/v1/targets/ollama/wake').set(auth).then((res) => res);
    setTimeout(() => {
      docker.containers.get('ollama')!.health = 'healthy';
    }, 150);
    const res = await woke;
    expect(res.status).toBe(200);
    expect(res.body.ready).toBe(true);
  });
});

describe('shutdown', () => {
  test('close() abandons a readiness wait at once, refuses new work, and the webhook answers 503', async () => {
    const r = buildTestReceiver({
      yaml: 'targets: {ollama: {members: [{container: ollama}], readiness: {type: http, url: "http://127.0.0.1:9/api/tags", timeout_seconds: 60, interval_seconds: 0.05}, cooldown_seconds: 0}}',
      docker: new FakeDocker().add('ollama'),
    });
    await request(r.app).post('/webhook/alertmanager').set(auth).send(startBody());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.manager.view('ollama').inFlight).toBe('start');
    const began = Date.now();
    await r.close();
    expect(Date.now() - began).toBeLessThan(2000);
    expect(r.manager.view('ollama').inFlight).toBeNull();
    expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'action finished', result: 'abandoned', reason: 'shutdown' }));
    expect(() => r.manager.submit('ollama', 'start', { origin: 'alert' })).toThrow(ShuttingDownError);
    const res = await request(r.app).post('/webhook/alertmanager').set(auth).send(again(startBody(), 3));
    expect(res.status).toBe(503);
    expect((await request(r.app).get('/readyz')).status).toBe(503);
  });
});
