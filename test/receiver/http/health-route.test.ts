import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { READY_PROBE_CACHE_MS } from '../../../receiver/src/http/health-route';
import { ManualClock } from '../../support/manual-clock';
import { buildTestReceiver } from '../../support/receiver-app';

/** Metric names from the metrics table of receiver/README.md: the rules bundle alerts on them. */
function contractMetricNames(): string[] {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../../receiver/README.md'), 'utf8');
  return [...readme.matchAll(/^\| `(ai_dispatcher_[a-z_]+)` \| (?:gauge|counter|histogram)/gm)].map((m) => m[1]);
}

describe('health and metrics', () => {
  test('/healthz answers while the engine is down; /readyz says 503 then, 200 once it is back (after the probe cache)', async () => {
    const clock = new ManualClock();
    const r = buildTestReceiver({ clock });
    r.docker.reachable = false;
    expect((await request(r.app).get('/healthz')).status).toBe(200);
    const down = await request(r.app).get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ ready: false, config: 'loaded', docker: 'unreachable', dryRun: false });
    r.docker.reachable = true;
    expect((await request(r.app).get('/readyz')).status).toBe(503);
    clock.advance(READY_PROBE_CACHE_MS);
    const up = await request(r.app).get('/readyz');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ ready: true, docker: 'reachable' });
  });

  // Issue 15: /readyz needs no credentials; it pinged Docker on every request (~750/s seen) and answered
  // with the engine's raw error text.
  test('a flood of /readyz makes one Docker ping per cache period, and the engine\'s error text stays in the log', async () => {
    const clock = new ManualClock();
    const r = buildTestReceiver({ clock });
    r.docker.reachable = false;
    const answers = await Promise.all(Array.from({ length: 200 }, () => request(r.app).get('/readyz')));
    for (let i = 0; i < 100; i++) await request(r.app).get('/readyz');
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    expect(r.docker.calls.filter((c) => c.op === 'ping')).toHaveLength(1);
    for (const a of answers) expect(JSON.stringify(a.body)).not.toMatch(/engine|ECONN|socket|docker\.sock/i);
    expect(r.logs().filter((l) => l.msg === 'readiness: Docker unreachable')).toEqual([expect.objectContaining({ level: 'warn', error: expect.any(String) })]);
    clock.advance(READY_PROBE_CACHE_MS);
    await request(r.app).get('/readyz');
    expect(r.docker.calls.filter((c) => c.op === 'ping')).toHaveLength(2);
  });

  test('a dry run is ready without an engine (it touches nothing)', async () => {
    const r = buildTestReceiver({ dryRun: true });
    r.docker.reachable = false;
    expect((await request(r.app).get('/readyz')).status).toBe(200);
  });

  test('/metrics exports exactly the contract names, from the app\'s own registry', async () => {
    const r = buildTestReceiver();
    await r.start();
    const res = await request(r.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const exported = [...new Set([...res.text.matchAll(/^# TYPE (ai_dispatcher_[a-z_]+) /gm)].map((m) => m[1]))].sort();
    const contract = contractMetricNames().sort();
    expect(contract.length).toBe(14);
    expect(exported).toEqual(contract);
    expect(res.text).toContain('ai_dispatcher_build_info{version="0.0.0-test",node_version="' + process.version + '"} 1');
    expect(res.text).toContain('ai_dispatcher_target_running{target="ollama"} 0');
    expect(res.text).toContain('ai_dispatcher_target_running{target="embeddings"} 0');
    expect(res.text).toContain('ai_dispatcher_docker_up 1');
    await r.close();
  });

  test('two apps in one process keep separate registries', async () => {
    const a = buildTestReceiver();
    const b = buildTestReceiver();
    a.docker.reachable = false;
    await request(a.app).post('/webhook/alertmanager').send({});
    expect(await a.metricValue('ai_dispatcher_webhook_requests_total', { outcome: 'unauthorized' })).toBe(1);
    expect(await b.metricValue('ai_dispatcher_webhook_requests_total', { outcome: 'unauthorized' })).toBe(0);
  });
});
