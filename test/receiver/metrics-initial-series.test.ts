import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { buildTestReceiver, settled, TEST_TOKEN } from '../support/receiver-app';

/** `name{labels} value` lines of a /metrics text, labels as an object. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))].map((m) => ({
    labels: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])),
    value: Number(m[2]),
  }));
}

/** The result values of ai_dispatcher_actions_total as the metrics table of receiver/README.md lists them. */
function readmeActionResults(): string[] {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../receiver/README.md'), 'utf8');
  const row = /^\| `ai_dispatcher_actions_total` \|.*`result` \(([^)]*)\)/m.exec(readme);
  if (!row) throw new Error('no ai_dispatcher_actions_total row in receiver/README.md');
  return [...row[1].matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();
}

const TARGETS = ['embeddings', 'ollama'];

async function freshMetrics(): Promise<string> {
  const r = buildTestReceiver();
  return (await request(r.app).get('/metrics')).text;
}

describe('series present from the start', () => {
  test('a fresh app exports every target x action x result of the README table at 0, and nothing else', async () => {
    const actions = samples(await freshMetrics(), 'ai_dispatcher_actions_total');
    const results = readmeActionResults();
    expect(results).toHaveLength(6);
    const expected = TARGETS.flatMap((target) => ['start', 'stop'].flatMap((action) => results.map((result) => `${target} ${action} ${result}`)));
    expect(actions.map((s) => `${s.labels.target} ${s.labels.action} ${s.labels.result}`).sort()).toEqual(expected.sort());
    expect(actions.every((s) => s.value === 0)).toBe(true);
  });

  test('the duration histograms exist at 0 for every configured target (and only those)', async () => {
    const text = await freshMetrics();
    const durations = samples(text, 'ai_dispatcher_action_duration_seconds_count');
    expect(durations.map((s) => `${s.labels.target} ${s.labels.action}`).sort()).toEqual(
      ['embeddings start', 'embeddings stop', 'ollama start', 'ollama stop'],
    );
    const waits = samples(text, 'ai_dispatcher_readiness_wait_seconds_count');
    expect(waits.map((s) => `${s.labels.target} ${s.labels.result}`).sort()).toEqual(
      ['embeddings ready', 'embeddings timeout', 'ollama ready', 'ollama timeout'],
    );
    const buckets = [
      ...samples(text, 'ai_dispatcher_action_duration_seconds_bucket'),
      ...samples(text, 'ai_dispatcher_readiness_wait_seconds_bucket'),
    ];
    expect(buckets.length).toBeGreaterThan(8);
    expect([...durations, ...waits, ...buckets].filter((s) => s.value !== 0)).toEqual([]);
  });

  test('webhook outcomes, ignored reasons, received alerts and Docker errors start at 0 too', async () => {
    const text = await freshMetrics();
    const labelsOf = (name: string, label: string) => samples(text, name).map((s) => s.labels[label]).sort();
    expect(labelsOf('ai_dispatcher_webhook_requests_total', 'outcome')).toEqual(
      ['accepted', 'error', 'invalid', 'too_large', 'unauthorized', 'unavailable', 'unsupported_media_type'],
    );
    expect(labelsOf('ai_dispatcher_alerts_ignored_total', 'reason')).toEqual(['missing_labels', 'resolved', 'unknown_action', 'unknown_target']);
    expect(samples(text, 'ai_dispatcher_alerts_received_total').map((s) => `${s.labels.alertname}/${s.labels.status}`).sort()).toEqual(
      ['AIServicesIdleTooLong', 'AIWorkExpectedSoon', 'PendingAIWorkflows', 'other'].flatMap((a) => [`${a}/firing`, `${a}/resolved`]),
    );
    expect(labelsOf('ai_dispatcher_docker_errors_total', 'operation')).toEqual(['inspect', 'ping', 'start', 'stop']);
    for (const name of ['webhook_requests_total', 'alerts_ignored_total', 'alerts_received_total', 'docker_errors_total']) {
      expect(samples(text, `ai_dispatcher_${name}`).filter((s) => s.value !== 0)).toEqual([]);
    }
  });

  test('target state gauges stay absent until Docker has been read: unknown is not "stopped"', async () => {
    const r = buildTestReceiver();
    const before = (await request(r.app).get('/metrics')).text;
    expect(samples(before, 'ai_dispatcher_target_running')).toEqual([]);
    expect(samples(before, 'ai_dispatcher_target_ready')).toEqual([]);
    expect(samples(before, 'ai_dispatcher_target_last_transition_timestamp_seconds')).toEqual([]);
    await r.start();
    const after = (await request(r.app).get('/metrics')).text;
    expect(samples(after, 'ai_dispatcher_target_running').map((s) => `${s.labels.target} ${s.value}`).sort()).toEqual(['embeddings 0', 'ollama 0']);
  });

  test('the first start moves the series from 0 to 1, so rate() and increase() see it', async () => {
    const r = buildTestReceiver();
    await r.start();
    const count = (text: string, name: string, labels: Record<string, string>) =>
      samples(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
    const before = (await request(r.app).get('/metrics')).text;
    const res = await request(r.app)
      .post('/api/v1/targets/ollama/start')
      .set('authorization', `Bearer ${TEST_TOKEN}`);
    expect(res.status).toBe(202);
    await settled(r);
    const after = (await request(r.app).get('/metrics')).text;
    const success = { target: 'ollama', action: 'start', result: 'success' };
    expect([count(before, 'ai_dispatcher_actions_total', success), count(after, 'ai_dispatcher_actions_total', success)]).toEqual([[0], [1]]);
    const duration = { target: 'ollama', action: 'start' };
    expect([
      count(before, 'ai_dispatcher_action_duration_seconds_count', duration),
      count(after, 'ai_dispatcher_action_duration_seconds_count', duration),
    ]).toEqual([[0], [1]]);
  });
});
