import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { FakeDocker } from '../../support/fake-docker';
import { ManualClock } from '../../support/manual-clock';
import { fixtureBytes, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
import { TEST_TOKEN, buildClockedReceiver, buildTestReceiver, guardedYaml, settled } from '../../support/receiver-app';

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

describe('GET /api/v1/targets', () => {
  test('shows desired and observed state, last action, cooldown and minimum running time', async () => {
    const clock = new ManualClock();
    const { r, hook } = buildClockedReceiver({ clock });
    await r.start();
    await hook(JSON.parse(withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start')));
    await settled(r);
    clock.advance(15_000);
    const res = await request(r.app).get('/api/v1/targets').set(auth);
    expect(res.status).toBe(200);
    expect(res.body.targets).toEqual([
      expect.objectContaining({
        name: 'ollama',
        desired: 'running',
        observed: expect.objectContaining({ running: true, ready: true }),
        inFlight: null,
        queued: null,
        lastAction: expect.objectContaining({ action: 'start', origin: 'alert', result: 'success' }),
        cooldownSeconds: 60,
        cooldownRemainingSeconds: 45,
        minRunningSeconds: 600,
        minRunningRemainingSeconds: 585,
        members: [
          { ref: { kind: 'container', name: 'ollama' }, exists: true, running: true, health: 'none' },
          { ref: { kind: 'container', name: 'sqlite-ai' }, exists: true, running: true, health: 'none' },
        ],
      }),
    ]);
    const metrics = await request(r.app).get('/metrics');
    expect(metrics.text).toContain('ai_dispatcher_target_cooldown_remaining_seconds{target="ollama"} 45');
    await r.close();
  });

  test('dry-run without a Docker engine: the configured members, their state unknown (null)', async () => {
    const r = buildTestReceiver({ yaml: guardedYaml(), dryRun: true });
    r.docker.reachable = false;
    await r.start();
    const res = await request(r.app).get('/api/v1/targets').set(auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      targets: [{
        name: 'ollama',
        observed: { running: null, ready: null, at: null },
        members: [
          { ref: { kind: 'container', name: 'ollama' }, exists: null, running: null, health: null },
          { ref: { kind: 'container', name: 'sqlite-ai' }, exists: null, running: null, health: null },
        ],
      }],
    });
    await r.close();
  });

  test('an unknown name: 404', async () => {
    const r = buildTestReceiver();
    expect((await request(r.app).get('/api/v1/targets/nope').set(auth)).status).toBe(404);
    expect((await request(r.app).post('/api/v1/targets/nope/start').set(auth)).status).toBe(404);
    expect((await request(r.app).post('/api/v1/targets/nope/wake').set(auth)).status).toBe(404);
    expect(r.docker.calls).toEqual([]);
  });
});

describe('manual start and stop', () => {
  test('start then stop; a manual stop skips the minimum running time', async () => {
    const r = buildTestReceiver({ yaml: guardedYaml() });
    const started = await request(r.app).post('/api/v1/targets/ollama/start').set(auth);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ target: 'ollama', action: 'start', disposition: 'queued' });
    await settled(r);
    expect(r.docker.isRunning('ollama')).toBe(true);
    expect((await request(r.app).post('/api/v1/targets/ollama/stop').set(auth)).status).toBe(202);
    await settled(r);
    expect(r.docker.isRunning('ollama')).toBe(false);
    expect(r.logs().filter((l) => l.msg === 'action finished').map((l) => [l.action, l.origin, l.result])).toEqual([
      ['start', 'manual', 'success'],
      ['stop', 'manual', 'success'],
    ]);
  });

  test('a manual stop while a start is in flight: 409, the start wins', async () => {
    const r = buildTestReceiver();
    let open!: () => void;
    r.docker.gate = new Promise<void>((resolve) => (open = resolve));
    expect((await request(r.app).post('/api/v1/targets/ollama/start').set(auth)).status).toBe(202);
    const stop = await request(r.app).post('/api/v1/targets/ollama/stop').set(auth);
    expect(stop.status).toBe(409);
    expect(stop.body).toMatchObject({ disposition: 'suppressed', reason: 'start_wins' });
    open();
    await settled(r);
    expect(r.docker.isRunning('ollama')).toBe(true);
  });

  test('Docker unreachable: 503', async () => {
    const r = buildTestReceiver();
    r.docker.reachable = false;
    const res = await request(r.app).post('/api/v1/targets/ollama/start').set(auth);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('wake', () => {
  let probe: http.Server;
  let probeUrl: string;
  let ready = false;
  beforeAll(async () => {
    probe = http.createServer((_req, res) => {
      res.writeHead(ready ? 200 : 503).end(ready ? '{"models":[]}' : 'loading');
    });
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    probeUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/api/tags`;
  });
  afterAll(async () => {
    probe.closeAllConnections();
    await new Promise((resolve) => probe.close(resolve));
  });
  beforeEach(() => {
    ready = false;
  });

  const yaml = (timeout: number) => `
wake_timeout_seconds: 5
targets:
  ollama:
    members: [{container: ollama}]
    readiness: {type: http, url: "${probeUrl}", timeout_seconds: ${timeout}, interval_seconds: 0.05}
    cooldown_seconds: 0
`;

  test('starts the target and answers 200 once the HTTP probe passes', async () => {
    const r = buildTestReceiver({ yaml: yaml(5) });
    setTimeout(() => (ready = true), 200);
    const res = await request(r.app).post('/api/v1/targets/ollama/wake').set(auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ target: 'ollama', ready: true, result: 'success' });
    expect(r.docker.isRunning('ollama')).toBe(true);
    const text = (await request(r.app).get('/metrics')).text;
    expect(text).toContain('ai_dispatcher_readiness_wait_seconds_count{target="ollama",result="ready"} 1');
    expect(text).toContain('ai_dispatcher_target_ready{target="ollama"} 1');
  });

  test('a target that never gets ready: 503 not_ready, counted and logged', async () => {
    const r = buildTestReceiver({ yaml: yaml(0.3) });
    const res = await request(r.app).post('/api/v1/targets/ollama/wake').set(auth);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ ready: false, result: 'not_ready' });
    expect(await r.metricValue('ai_dispatcher_actions_total', { action: 'start', result: 'not_ready' })).toBe(1);
    const text = (await request(r.app).get('/metrics')).text;
    expect(text).toContain('ai_dispatcher_readiness_wait_seconds_count{target="ollama",result="timeout"} 1');
    expect(text).toContain('ai_dispatcher_target_ready{target="ollama"} 0');
    expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'action finished', level: 'warn', result: 'not_ready' }));
  });

  test('answers after its own timeout while the start goes on', async () => {
    const r = buildTestReceiver({ yaml: yaml(5) });
    const res = await request(r.app).post('/api/v1/targets/ollama/wake?timeout_seconds=0.2').set(auth);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ ready: false, result: 'timeout' });
    ready = true;
    await settled(r);
    expect(r.manager.view('ollama').lastAction).toMatchObject({ result: 'success' });
  });

  test('a running, ready target answers at once without a start', async () => {
    ready = true;
    const docker = new FakeDocker().add('ollama', { running: true });
    const r = buildTestReceiver({ docker, yaml: yaml(5) });
    const res = await request(r.app).post('/api/v1/targets/ollama/wake').set(auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ready: true, result: 'noop' });
    expect(docker.mutations()).toEqual([]);
  });

  test('a bad timeout: 400', async () => {
    const r = buildTestReceiver({ yaml: yaml(5) });
    expect((await request(r.app).post('/api/v1/targets/ollama/wake?timeout_seconds=abc').set(auth)).status).toBe(400);
  });
});
