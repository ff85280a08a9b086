/**
 * An alert that flaps: start and stop alternate every 700 ms for 30 s (each firing a new alert, as a flapping
 * rule produces a new startsAt each time). Time is compressed: with a 4 s cooldown, "transitions per hour
 * bounded by the cooldowns" becomes "at most window / cooldown + 1 transitions in the window", counted in
 * Docker's own events; the receiver's metrics and logs say which requests the guards held back.
 */
import { DockerEngine, createStandInContainer, startDockerEngine } from '../../../scripts/harness/docker-engine';
import { containerEvents } from '../../../scripts/harness/docker-events';
import { eventually } from '../../../scripts/harness/eventually';
import { LiveReceiver, alertBody, startLiveReceiver } from '../../../scripts/harness/live-receiver';

jest.setTimeout(60_000);

const COOLDOWN_SECONDS = 4;
const FLAP_EVERY_MS = 700;
const WINDOW_MS = 30_000;

let engine: DockerEngine;
let live: LiveReceiver;
let id: string;

beforeAll(async () => {
  engine = await startDockerEngine();
  const ollama = await createStandInContainer(engine, { name: 'flap-ollama' });
  id = ollama.id;
  live = await startLiveReceiver({
    engine,
    targets: `ollama: {members: [{container: flap-ollama}], readiness: {type: http, url: "http://127.0.0.1:${ollama.port}/api/tags", timeout_seconds: 10, interval_seconds: 0.05}, min_running_seconds: 0, cooldown_seconds: ${COOLDOWN_SECONDS}, stop_timeout_seconds: 5}`,
  });
});

afterAll(async () => {
  await live?.close();
  await engine?.stop();
});

it(`flapping every ${FLAP_EVERY_MS} ms for ${WINDOW_MS / 1000} s: transitions stay within window / cooldown + 1`, async () => {
  const since = Date.now();
  const statuses = new Map<number, number>();
  let maxCooldown = 0;
  for (let i = 0; Date.now() - since < WINDOW_MS; i++) {
    const startsAt = new Date().toISOString();
    const body =
      i % 2 === 0
        ? alertBody('PendingAIWorkflows-firing', { action: 'start', target: 'ollama', startsAt })
        : alertBody('AIServicesIdleTooLong-firing', { action: 'stop', target: 'ollama', startsAt });
    const res = await live.webhook(body, i % 2 === 0 ? 'PendingAIWorkflows-firing' : 'AIServicesIdleTooLong-firing');
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    maxCooldown = Math.max(maxCooldown, (await live.metric('ai_dispatcher_target_cooldown_remaining_seconds', { target: 'ollama' })) ?? 0);
    await new Promise((resolve) => setTimeout(resolve, FLAP_EVERY_MS));
  }
  const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
  await eventually('the last action to end', async () => {
    const v = await live.target('ollama');
    return v.inFlight === null && v.queued === null;
  });
  const elapsedSeconds = (Date.now() - since) / 1000;

  // Every notification was answered 2xx (nothing for Alertmanager to retry), none was lost.
  expect([...statuses.keys()].every((s) => s === 200 || s === 202)).toBe(true);
  expect(await live.metric('ai_dispatcher_webhook_requests_total', { outcome: 'accepted' })).toBe(sent);

  const events = await containerEvents(engine, id, ['start', 'die'], since);
  const transitions = events.start + events.die;
  expect(transitions).toBeGreaterThanOrEqual(2);
  expect(transitions).toBeLessThanOrEqual(Math.floor(elapsedSeconds / COOLDOWN_SECONDS) + 1);
  // Far fewer than the alert asked for: the guards held the rest back, and say so.
  expect(transitions).toBeLessThan(sent / 2);
  const suppressed = (await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'suppressed' })) ?? 0;
  expect(suppressed).toBeGreaterThan(0);
  expect(maxCooldown).toBeGreaterThan(0);
  expect(maxCooldown).toBeLessThanOrEqual(COOLDOWN_SECONDS);
  const lines = live.logLines.map((l) => JSON.parse(l) as Record<string, any>);
  expect(lines.some((l) => l.msg === 'start waits for the cooldown')).toBe(true);
  expect(lines.some((l) => l.msg === 'action finished' && l.result === 'suppressed' && /cooldown/.test(l.reason))).toBe(true);
  // The receiver's own count of what it did matches Docker's.
  const successes =
    ((await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'success' })) ?? 0) +
    ((await live.metric('ai_dispatcher_actions_total', { target: 'ollama', action: 'stop', result: 'success' })) ?? 0);
  expect(successes).toBe(transitions);
});
