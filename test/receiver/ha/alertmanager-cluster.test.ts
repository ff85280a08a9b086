/**
 * Two real Alertmanagers clustered on loopback, both routing to one receiver with the repository's
 * Alertmanager config (rules/alertmanager/alertmanager.yml, only URL, token file and timings swapped):
 * the same alert, posted to both as Prometheus posts it to every Alertmanager, is delivered by both,
 * and the receiver acts on it once.
 *
 * --cluster.peer-timeout=0s makes both members flush at the same moment, before the notification log
 * gossip can tell the second one that the first has sent: the worst case of an HA pair (what a slow or
 * partitioned cluster does), and the only way to make "both deliver" certain instead of likely.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FAST_TIMINGS, alertmanagerConfig } from '../../../scripts/stack/config';
import { AlertmanagerServer, PostableAlert, startAlertmanagerCluster } from '../../../scripts/harness/alertmanager';
import { DockerEngine, containerRunning, createStandInContainer, startDockerEngine } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { FIXTURE_TOKEN, LiveReceiver, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(90_000);

let dir: string;
let engine: DockerEngine;
let live: LiveReceiver;
let cluster: AlertmanagerServer[] = [];
let ollama: { id: string; port: number };
let startedAlertAt: Date;

const running = () => containerRunning(engine, ollama.id);

async function deliveries(): Promise<number> {
  return (await live.metric('ai_dispatcher_webhook_requests_total', { outcome: 'accepted' })) ?? 0;
}

/** What Prometheus sends: the same labels and the same startsAt (the alert's ActiveAt) to every Alertmanager. */
function lifecycleAlert(alertname: string, action: 'start' | 'stop', startsAt: Date): PostableAlert {
  return {
    labels: { alertname, severity: 'info', ai_dispatcher_action: action, ai_dispatcher_target: 'ollama' },
    annotations: { summary: `${alertname} (HA test)` },
    startsAt: startsAt.toISOString(),
    generatorURL: 'http://127.0.0.1:9090/graph',
  };
}

async function postToEveryMember(alert: PostableAlert): Promise<void> {
  await Promise.all(cluster.map((am) => am.postAlerts([alert])));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ha-am-'));
  engine = await startDockerEngine();
  ollama = await createStandInContainer(engine, { name: 'ha-ollama' });
  live = await startLiveReceiver({
    engine,
    targets: `ollama: {members: [{container: ha-ollama}], readiness: {type: http, url: "http://127.0.0.1:${ollama.port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}, min_running_seconds: 0, cooldown_seconds: 0, stop_timeout_seconds: 5}`,
  });
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, `${FIXTURE_TOKEN}\n`);
  const config = alertmanagerConfig({ timings: FAST_TIMINGS, webhookUrl: `${live.url}/webhook/alertmanager`, credentialsFile: tokenFile });
  cluster = await startAlertmanagerCluster(2, config, { peerTimeout: '0s' });
});

afterAll(async () => {
  await Promise.all(cluster.map((am) => am.stop()));
  await live?.close();
  await engine?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('forms a two-member cluster on loopback', async () => {
  for (const am of cluster) {
    const { cluster: status } = await am.status();
    expect(status.status).toBe('ready');
    expect((status.peers ?? []).map((p) => p.address).sort()).toEqual(cluster.map((m) => m.clusterAddress).sort());
  }
});

it('PendingAIWorkflows delivered by both members starts the container once', async () => {
  expect(await running()).toBe(false);
  const since = Date.now();
  const before = await deliveries();
  startedAlertAt = new Date();
  await postToEveryMember(lifecycleAlert('PendingAIWorkflows', 'start', startedAlertAt));

  await eventually('both members to deliver', async () => (await deliveries()) - before >= 2, 20_000);
  await eventually('the start to finish', async () => {
    const view = await live.target('ollama');
    return view.inFlight === null && view.queued === null && view.observed.ready === true;
  });
  // Give a late third delivery (there must be none) a chance to show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 1500));

  expect((await deliveries()) - before).toBe(2);
  expect(await live.metric('ai_dispatcher_alerts_received_total', { alertname: 'PendingAIWorkflows', status: 'firing' })).toBe(2);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })).toBe(1);
  // The second delivery is a repeated one: a duplicate (same fingerprint and startsAt) or joined to the start in flight.
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'noop' })).toBe(1);
  expect(await containerEvents(engine, ollama.id, ['start', 'die'], since)).toEqual({ start: 1, die: 0 });
  expect(await running()).toBe(true);
  const finished = live.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'action finished' && l.action === 'start');
  expect(finished).toEqual([expect.objectContaining({ result: 'success', origin: 'alert', ready: true })]);
});

it('AIServicesIdleTooLong delivered by both members stops the container once', async () => {
  // The config inhibits a stop while a start for the same target fires: the work is done, resolve the start.
  await postToEveryMember({ ...lifecycleAlert('PendingAIWorkflows', 'start', startedAlertAt), endsAt: new Date().toISOString() });
  const since = Date.now();
  const idle = () => live.metric('ai_dispatcher_alerts_received_total', { alertname: 'AIServicesIdleTooLong', status: 'firing' });
  await postToEveryMember(lifecycleAlert('AIServicesIdleTooLong', 'stop', new Date()));

  await eventually('both members to deliver', async () => ((await idle()) ?? 0) >= 2, 20_000);
  await eventually('the stop to finish', async () => !(await running()) && (await live.target('ollama')).inFlight === null);
  await new Promise((resolve) => setTimeout(resolve, 1500));

  expect(await idle()).toBe(2);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'success' })).toBe(1);
  expect(await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'noop' })).toBe(1);
  expect(await containerEvents(engine, ollama.id, ['start', 'die'], since)).toEqual({ start: 0, die: 1 });
  expect(await live.target('ollama')).toMatchObject({ observed: { running: false }, lastAction: { action: 'stop', result: 'success' } });
  // The resolved PendingAIWorkflows notifications were accepted and did nothing (resolved: ignore).
  expect(await live.metric('ai_dispatcher_alerts_ignored_total', { reason: 'resolved' })).toBeGreaterThanOrEqual(1);
});
