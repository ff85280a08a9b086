/**
 * Prometheus goes away and restarts (same data dir) while its lifecycle alert fires: the whole chain is
 * real (the repository's rules with short periods, the repository's Alertmanager config, the receiver on a
 * private dockerd, the stand-in exporter for the n8n/node/cAdvisor inputs). The alert keeps firing after the
 * restart, Alertmanager keeps it active (no resolved notification while Prometheus is down), the receiver
 * starts nothing twice; and the alert still works after the restart: resolved, fired again, it starts the
 * container that somebody stopped meanwhile, once.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FAST_TIMINGS, alertmanagerConfig } from '../../../scripts/stack/config';
import { writeShortenedRules } from '../../../scripts/stack/short-periods';
import { StandInState, createStandInServer, type StandInValues } from '../../../scripts/stack/standin-exporter';
import { AlertmanagerServer, startAlertmanager } from '../../../scripts/harness/alertmanager';
import { DockerEngine, containerRunning, createStandInContainer, startDockerEngine } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { FIXTURE_TOKEN, LiveReceiver, startLiveReceiver } from '../../../scripts/harness/live-receiver';
import { PrometheusServer, startPrometheus } from '../../../scripts/harness/prometheus';

jest.setTimeout(120_000);

let dir: string;
let engine: DockerEngine;
let live: LiveReceiver;
let am: AlertmanagerServer;
let prom: PrometheusServer;
let exporter: http.Server;
let state: StandInState;
let id: string;

const set = (patch: Partial<StandInValues>) => state.set(patch);

const running = () => containerRunning(engine, id);

async function firing(): Promise<boolean> {
  const rows = await prom.query('ALERTS{alertname="PendingAIWorkflows", alertstate="firing"}');
  return rows.length === 1;
}

/** While the alert still fires: what Prometheus sees, for the failure message (the wait once timed out in CI). */
async function stillFiring(): Promise<Error> {
  type Rule = { name: string; state?: string; health: string; lastError?: string; lastEvaluation: string };
  const { groups } = await prom.api<{ groups: Array<{ rules: Rule[] }> }>('rules');
  const rules = groups.flatMap((g) => g.rules);
  const rule = rules.find((r) => r.name === 'PendingAIWorkflows');
  const unhealthy = rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`);
  const inputs = await prom.query('{__name__=~"ai:n8n_pending_ai_work:sum|ai:input_available|ai:node_load1:max", input=~"|n8n_pending_ai_work|node_load1"}');
  return new Error(
    `still firing; rule ${JSON.stringify({ state: rule?.state, health: rule?.health, lastEvaluation: rule?.lastEvaluation })}; ` +
      `unhealthy rules ${JSON.stringify(unhealthy)}; inputs ${JSON.stringify(inputs)}`,
  );
}

async function received(status: 'firing' | 'resolved'): Promise<number> {
  return (await live.metric('ai_dispatcher_alerts_received_total', { alertname: 'PendingAIWorkflows', status })) ?? 0;
}

async function readyAndIdle(): Promise<boolean> {
  const v = await live.target('ollama');
  return v.inFlight === null && v.queued === null && v.observed.ready === true;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-prom-'));
  engine = await startDockerEngine();
  const ollama = await createStandInContainer(engine, { name: 'prom-fault-ollama' });
  id = ollama.id;
  live = await startLiveReceiver({
    engine,
    targets: `ollama: {members: [{container: prom-fault-ollama}], readiness: {type: http, url: "http://127.0.0.1:${ollama.port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}, min_running_seconds: 0, cooldown_seconds: 0}`,
  });

  // Nothing pending yet. No Ollama job: without its inputs AIServicesIdleTooLong cannot fire; only PendingAIWorkflows acts here.
  state = new StandInState({ n8n_queue_jobs_waiting: 0 });
  exporter = createStandInServer(state);
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const exporterAddress = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;

  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, `${FIXTURE_TOKEN}\n`);
  am = await startAlertmanager({
    config: alertmanagerConfig({
      timings: { ...FAST_TIMINGS, repeatIntervalSeconds: 3 },
      webhookUrl: `${live.url}/webhook/alertmanager`,
      credentialsFile: tokenFile,
    }),
  });
  prom = await startPrometheus({
    ruleFiles: writeShortenedRules(path.join(dir, 'rules'), { lifecycleForSeconds: 1, idlePeriodSeconds: 3600, requestWindowSeconds: 3 }),
    scrapeConfigs: ['node', 'n8n', 'cadvisor'].map((job) => ({ job, targets: [exporterAddress], metricsPath: `/metrics/${job}` })),
    alertmanagers: [am.url.replace('http://', '')],
  });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await am?.stop();
  await live?.close();
  await new Promise((resolve) => (exporter ? exporter.close(resolve) : resolve(undefined)));
  await engine?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('pending work fires PendingAIWorkflows through Alertmanager: the receiver starts the container', async () => {
  set({ n8n_queue_jobs_waiting: 2 });
  await eventually('the container to run and be ready', async () => (await running()) && (await readyAndIdle()), 45_000);
  expect(await firing()).toBe(true);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
});

it('Prometheus down for 4 s and restarted: the alert keeps firing, nothing resolves, nothing is started again', async () => {
  const since = Date.now();
  const logFrom = live.logLines.length;
  const resolvedBefore = await received('resolved');
  await prom.halt();
  await new Promise((resolve) => setTimeout(resolve, 4000));
  // Alertmanager keeps the alert active while Prometheus is away (its endsAt lies minutes ahead).
  const inAm = (await am.alerts()).filter((a) => a.labels.alertname === 'PendingAIWorkflows');
  expect(inAm).toEqual([expect.objectContaining({ status: expect.objectContaining({ state: 'active' }) })]);

  await prom.restart();
  await eventually('the alert to fire again after the restart', firing, 30_000);
  const firingBefore = await received('firing');
  // Alertmanager's next deliveries (repeat_interval 3 s) still reach the receiver and change nothing.
  await eventually('another delivery after the restart', async () => (await received('firing')) > firingBefore, 20_000);

  expect(await received('resolved')).toBe(resolvedBefore);
  expect(await running()).toBe(true);
  expect(await containerEvents(engine, id, ['start', 'die'], since)).toEqual({ start: 0, die: 0 });
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'failed' })).toBe(0);
  for (const outcome of ['invalid', 'unavailable', 'error']) {
    expect(await live.metric('ai_dispatcher_webhook_requests_total', { outcome })).toBe(0);
  }
  expect(await live.target('ollama')).toMatchObject({ observed: { running: true, ready: true } });
  // The log says what happened: deliveries that changed nothing, and no warning or error.
  const lines = live.logLines.slice(logFrom).map((l) => JSON.parse(l) as Record<string, any>);
  expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  expect(lines.filter((l) => l.msg === 'action finished').every((l) => l.result === 'noop' && l.ready === true)).toBe(true);
});

it('after the restart the alert still works: resolved, stopped by hand, fired again, started once', async () => {
  set({ n8n_queue_jobs_waiting: 0 });
  await eventually('the alert to resolve', async () => {
    if (!(await firing())) return true;
    throw await stillFiring();
  }, 30_000);
  await eventually('the resolved notification', async () => (await received('resolved')) >= 1, 20_000);
  expect(await running()).toBe(true); // resolved does nothing (webhook.resolved: ignore)

  await engine.docker.getContainer(id).stop({ t: 5 });
  await eventually('the receiver to notice', async () => (await live.target('ollama')).observed.running === false);
  const since = Date.now();
  set({ n8n_queue_jobs_waiting: 3 });
  await eventually('the container to run again', async () => (await running()) && (await readyAndIdle()), 45_000);
  expect(await containerEvents(engine, id, ['start', 'die'], since)).toEqual({ start: 1, die: 0 });
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(2);
});
