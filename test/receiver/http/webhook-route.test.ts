import request from 'supertest';
import { FakeDocker } from '../../support/fake-docker';
import { fixtureBytes, fixtureNames, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
import { TEST_TOKEN, buildTestReceiver, settled, type TestReceiver } from '../../support/receiver-app';

const PATH = '/webhook/alertmanager';
const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

function post(r: TestReceiver, body: string | object, headers: Record<string, string> = {}) {
  const req = request(r.app).post(PATH).set({ ...auth, 'Content-Type': 'application/json', ...headers });
  return req.send(typeof body === 'string' ? body : JSON.stringify(body));
}

const pendingFiring = () => withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start');
const idleFiring = () => withContractLabels(fixtureBytes('AIServicesIdleTooLong-firing.json'), 'stop');

describe('every Alertmanager 0.25 capture is accepted', () => {
  test.each(fixtureNames())('%s as captured: 2xx, counted, nothing done (prototype labels)', async (name) => {
    const r = buildTestReceiver();
    const res = await post(r, fixtureBytes(name).toString());
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('accepted');
    const alertname = name.split('-')[0];
    const status = name.includes('resolved') ? 'resolved' : 'firing';
    expect(await r.metricValue('ai_dispatcher_alerts_received_total', { alertname, status })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_alerts_ignored_total', { reason: 'missing_labels' })).toBe(1);
    expect(r.docker.mutations()).toEqual([]);
  });

  test.each(fixtureNames().filter((n) => n.includes('resolved')))('%s with contract labels: resolved does nothing', async (name) => {
    const r = buildTestReceiver();
    const res = await post(r, withContractLabels(fixtureBytes(name), 'start'));
    expect(res.status).toBe(200);
    expect(await r.metricValue('ai_dispatcher_alerts_ignored_total', { reason: 'resolved' })).toBe(1);
    expect(r.docker.mutations()).toEqual([]);
  });
});

describe('lifecycle through the webhook', () => {
  test('PendingAIWorkflows firing starts the group members in order and answers 202 at once', async () => {
    const r = buildTestReceiver();
    const res = await post(r, pendingFiring());
    expect(res.status).toBe(202);
    expect(res.body.actions).toEqual([{ target: 'ollama', action: 'start', disposition: 'queued' }]);
    await settled(r);
    expect(r.docker.mutations()).toEqual([
      { op: 'start', ref: 'ollama' },
      { op: 'start', ref: 'sqlite-ai' },
    ]);
    expect(await r.metricValue('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_target_running', { target: 'ollama' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_target_ready', { target: 'ollama' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_webhook_requests_total', { outcome: 'accepted' })).toBe(1);
    expect(r.logs().filter((l) => l.msg === 'action finished')).toEqual([
      expect.objectContaining({ target: 'ollama', action: 'start', result: 'success', origin: 'alert' }),
    ]);
  });

  test('AIServicesIdleTooLong firing stops the running members in reverse order with the stop timeout', async () => {
    const docker = new FakeDocker().add('ollama', { running: true }).add('sqlite-ai', { running: true });
    const r = buildTestReceiver({ docker });
    const res = await post(r, idleFiring());
    expect(res.status).toBe(202);
    await settled(r);
    expect(docker.mutations()).toEqual([
      { op: 'stop', ref: 'sqlite-ai', timeout: 3 },
      { op: 'stop', ref: 'ollama', timeout: 3 },
    ]);
    expect(await r.metricValue('ai_dispatcher_target_running', { target: 'ollama' })).toBe(0);
  });

  test('a start for a running group is a noop: nothing is started', async () => {
    const docker = new FakeDocker().add('ollama', { running: true }).add('sqlite-ai', { running: true });
    const r = buildTestReceiver({ docker });
    expect((await post(r, pendingFiring())).status).toBe(202);
    await settled(r);
    expect(docker.mutations()).toEqual([]);
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'start', result: 'noop' })).toBe(1);
  });

  test('only the members that are not running are started', async () => {
    const docker = new FakeDocker().add('ollama', { running: true }).add('sqlite-ai');
    const r = buildTestReceiver({ docker });
    await post(r, pendingFiring());
    await settled(r);
    expect(docker.mutations()).toEqual([{ op: 'start', ref: 'sqlite-ai' }]);
  });

  test('the same notification delivered three times (retry, HA peer) acts once', async () => {
    const r = buildTestReceiver();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post(r, pendingFiring()));
    await settled(r);
    expect(answers.map((a) => a.status)).toEqual([202, 200, 200]);
    expect(answers[2].body.duplicates).toBe(1);
    expect(r.docker.mutations()).toHaveLength(2);
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'start', result: 'noop' })).toBe(2);
  });

  test('parallel deliveries of one notification act once', async () => {
    const r = buildTestReceiver();
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => post(r, pendingFiring())));
    await settled(r);
    expect(answers.every((a) => a.status === 200 || a.status === 202)).toBe(true);
    expect(r.docker.mutations()).toEqual([
      { op: 'start', ref: 'ollama' },
      { op: 'start', ref: 'sqlite-ai' },
    ]);
  });

  test('an unknown target group: 200, logged once, counted every time, nothing done', async () => {
    const r = buildTestReceiver();
    const body = withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start', 'ollama-evil');
    expect((await post(r, body)).status).toBe(200);
    expect((await post(r, body)).status).toBe(200);
    expect(await r.metricValue('ai_dispatcher_alerts_ignored_total', { reason: 'unknown_target' })).toBe(2);
    expect(r.logs().filter((l) => l.msg === 'alert ignored' && l.reason === 'unknown_target')).toHaveLength(1);
    expect(r.docker.calls).toEqual([]);
  });

  test('a container name in the target label does not reach Docker', async () => {
    const r = buildTestReceiver();
    const res = await post(r, withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start', 'sqlite-ai'));
    expect(res.status).toBe(200);
    expect(res.body.ignored).toEqual([expect.objectContaining({ reason: 'unknown_target' })]);
    expect(r.docker.calls).toEqual([]);
  });

  test('a missing container: the action fails (logged, counted), and the next delivery tries again', async () => {
    const docker = new FakeDocker().add('ollama');
    const r = buildTestReceiver({ docker });
    expect((await post(r, pendingFiring())).status).toBe(202);
    await settled(r);
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'start', result: 'failed' })).toBe(1);
    expect(r.logs().find((l) => l.msg === 'action finished')).toMatchObject({
      result: 'failed',
      reason: 'container_missing',
      error: 'no container matches container "sqlite-ai"',
    });
    docker.add('sqlite-ai');
    expect((await post(r, pendingFiring())).status).toBe(202);
    await settled(r);
    expect(docker.isRunning('sqlite-ai')).toBe(true);
    expect(docker.isRunning('ollama')).toBe(true);
  });

  test('Docker unreachable: 503 (Alertmanager retries), nothing remembered; the retry acts once the engine is back', async () => {
    const r = buildTestReceiver();
    r.docker.reachable = false;
    const res = await post(r, pendingFiring());
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('docker_unavailable');
    expect(res.headers['retry-after']).toBe('10');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(await r.metricValue('ai_dispatcher_webhook_requests_total', { outcome: 'unavailable' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_docker_up')).toBe(0);
    r.docker.reachable = true;
    expect((await post(r, pendingFiring())).status).toBe(202);
    await settled(r);
    expect(r.docker.isRunning('ollama')).toBe(true);
    expect(await r.metricValue('ai_dispatcher_docker_up')).toBe(1);
  });

  test('a start and a stop in one notification: the start wins', async () => {
    const r = buildTestReceiver();
    const start = JSON.parse(pendingFiring());
    const stop = JSON.parse(idleFiring());
    const both = { ...start, alerts: [...stop.alerts, ...start.alerts] };
    const res = await post(r, both);
    expect(res.status).toBe(202);
    expect(res.body.actions).toEqual([
      { target: 'ollama', action: 'stop', disposition: 'suppressed', reason: 'start_wins' },
      { target: 'ollama', action: 'start', disposition: 'queued' },
    ]);
    await settled(r);
    expect(r.docker.isRunning('ollama')).toBe(true);
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'stop', result: 'suppressed' })).toBe(1);
  });

  test('a stop that arrives while a start is in flight is dropped: the start wins', async () => {
    const r = buildTestReceiver();
    let open!: () => void;
    r.docker.gate = new Promise<void>((resolve) => (open = resolve));
    expect((await post(r, pendingFiring())).status).toBe(202);
    const stop = await post(r, idleFiring());
    expect(stop.body.actions).toEqual([{ target: 'ollama', action: 'stop', disposition: 'suppressed', reason: 'start_wins' }]);
    open();
    await settled(r);
    expect(r.docker.isRunning('ollama')).toBe(true);
    expect(r.docker.mutations().filter((c) => c.op === 'stop')).toEqual([]);
  });

  test('a start that arrives while a stop is in flight runs right after it', async () => {
    const docker = new FakeDocker().add('ollama', { running: true }).add('sqlite-ai', { running: true });
    const r = buildTestReceiver({ docker });
    let open!: () => void;
    docker.gate = new Promise<void>((resolve) => (open = resolve));
    await post(r, idleFiring());
    const start = await post(r, pendingFiring());
    expect(start.body.actions).toEqual([{ target: 'ollama', action: 'start', disposition: 'queued' }]);
    expect(r.manager.view('ollama')).toMatchObject({ inFlight: 'stop', queued: 'start', desired: 'running' });
    open();
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(true);
    expect(docker.isRunning('sqlite-ai')).toBe(true);
  });

  test('a group found by compose labels; an alert name outside the lifecycle alerts is counted as "other"', async () => {
    const r = buildTestReceiver();
    const body = JSON.parse(withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start', 'embeddings'));
    body.alerts[0].labels.alertname = 'SomethingElse';
    expect((await post(r, body)).status).toBe(202);
    await settled(r);
    expect(r.docker.mutations()).toEqual([{ op: 'start', ref: 'ai/embeddings' }]);
    expect(await r.metricValue('ai_dispatcher_alerts_received_total', { alertname: 'other', status: 'firing' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_target_running', { target: 'embeddings' })).toBe(1);
  });

  test('resolved: reverse turns a resolved start alert into a stop', async () => {
    const docker = new FakeDocker().add('ollama', { running: true }).add('sqlite-ai', { running: true });
    const r = buildTestReceiver({
      docker,
      yaml: 'webhook: {resolved: reverse}\ntargets: {ollama: {members: [{container: ollama}, {container: sqlite-ai}], readiness: {type: running}, min_running_seconds: 0, cooldown_seconds: 0}}',
    });
    const res = await post(r, withContractLabels(fixtureBytes('PendingAIWorkflows-resolved.json'), 'start'));
    expect(res.status).toBe(202);
    await settled(r);
    expect(docker.isRunning('ollama')).toBe(false);
  });
});

describe('dry-run', () => {
  test('logs and counts what it would do and touches nothing', async () => {
    const docker = new FakeDocker().add('ollama').add('sqlite-ai', { running: true });
    const r = buildTestReceiver({ docker, dryRun: true });
    expect((await post(r, pendingFiring())).status).toBe(202);
    await settled(r);
    docker.setRunning('ollama', true);
    expect((await post(r, idleFiring())).status).toBe(202);
    await settled(r);
    expect(docker.mutations()).toEqual([]);
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'start', result: 'dry_run' })).toBe(1);
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'stop', result: 'dry_run' })).toBe(1);
    expect(r.logs().filter((l) => l.msg === 'action finished').map((l) => [l.action, l.result, l.reason, l.dry_run])).toEqual([
      ['start', 'dry_run', 'would start', true],
      ['stop', 'dry_run', 'would stop', true],
    ]);
  });

  test('works without a Docker engine and still touches nothing', async () => {
    const r = buildTestReceiver({ dryRun: true });
    r.docker.reachable = false;
    expect((await post(r, pendingFiring())).status).toBe(202);
    await settled(r);
    expect(r.docker.mutations()).toEqual([]);
    expect(await r.metricValue('ai_dispatcher_actions_total', { result: 'dry_run' })).toBe(1);
  });
});
