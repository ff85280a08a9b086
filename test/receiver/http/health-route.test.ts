import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { buildTestReceiver } from '../../support/receiver-app';

/** Metric names from the metrics table of receiver/README.md: the rules bundle alerts on them. */
function contractMetricNames(): string[] {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../../receiver/README.md'), 'utf8');
  return [...readme.matchAll(/^\| `(ai_dispatcher_[a-z_]+)` \| (?:gauge|counter|histogram)/gm)].map((m) => m[1]);
}

describe('health and metrics', () => {
  test('/healthz answers while the engine is down; /readyz says 503 then, 200 once it is back', async () => {
    const r = buildTestReceiver();
    r.docker.reachable = false;
    expect((await request(r.app).get('/healthz')).status).toBe(200);
    const down = await request(r.app).get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ready: false, config: 'loaded', docker: expect.stringContaining('unreachable') });
    r.docker.reachable = true;
    const up = await request(r.app).get('/readyz');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ ready: true, docker: 'reachable' });
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
    expect(contract.length).toBe(13);
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
