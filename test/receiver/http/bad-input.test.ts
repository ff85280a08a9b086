import zlib from 'node:zlib';
import request from 'supertest';
import { fixtureBytes, withContractLabels } from '../../support/alertmanager-fixtures';
import { rawPost } from '../../support/raw-http';
import { TEST_TOKEN, buildTestReceiver, type TestReceiver } from '../../support/receiver-app';

const PATH = '/webhook/alertmanager';
const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
const valid = () => JSON.parse(withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start'));

async function expectRejected(r: TestReceiver, status: number, outcome: string) {
  expect(await r.metricValue('ai_dispatcher_webhook_requests_total', { outcome })).toBe(1);
  expect(r.logs()).toContainEqual(expect.objectContaining({ msg: 'webhook request rejected', status, outcome }));
  expect(r.docker.calls).toEqual([]);
}

describe('bad input gets a 4xx, a log line and a metric, and nothing is done', () => {
  test('malformed JSON: 400', async () => {
    const r = buildTestReceiver();
    const res = await request(r.app).post(PATH).set(auth).set('Content-Type', 'application/json').send('{"version": "4",');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('malformed_json');
    await expectRejected(r, 400, 'invalid');
  });

  test.each([
    ['a JSON string instead of an object', '"hello"'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('%s: 400', async (_name, body) => {
    const r = buildTestReceiver();
    const res = await request(r.app).post(PATH).set(auth).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    await expectRejected(r, 400, 'invalid');
  });

  test('schema violation: 400 with the validation errors in the body', async () => {
    const r = buildTestReceiver();
    const body = valid();
    body.version = '3';
    body.alerts[0].labels.ai_dispatcher_action = 42;
    delete body.groupKey;
    const res = await request(r.app).post(PATH).set(auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_payload');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: '/', message: "must have required property 'groupKey'" },
        { path: '/version', message: 'must be equal to constant' },
        { path: '/alerts/0/labels/ai_dispatcher_action', message: 'must be string' },
      ]),
    );
    await expectRejected(r, 400, 'invalid');
  });

  test('a body with thousands of problems lists only the first ones', async () => {
    const r = buildTestReceiver();
    const body = valid();
    body.alerts = Array.from({ length: 2000 }, () => ({ status: 'firing' }));
    const res = await request(r.app).post(PATH).set(auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(20);
  });

  test('over the body limit: 413', async () => {
    const r = buildTestReceiver({ yaml: 'webhook: {body_limit_bytes: 2048}\ntargets: {ollama: {members: [{container: ollama}]}}' });
    const body = valid();
    body.commonAnnotations.summary = 'x'.repeat(4000);
    const res = await request(r.app).post(PATH).set(auth).send(body);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
    await expectRejected(r, 413, 'too_large');
  });

  test('a gzip body that inflates past the limit: 413', async () => {
    const r = buildTestReceiver({ yaml: 'webhook: {body_limit_bytes: 2048}\ntargets: {ollama: {members: [{container: ollama}]}}' });
    const bomb = zlib.gzipSync(Buffer.from(JSON.stringify({ ...valid(), pad: ' '.repeat(100_000) })));
    const res = await rawPost(r.app, PATH, { ...auth, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bomb);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toBe('payload_too_large');
    await expectRejected(r, 413, 'too_large');
  });

  test.each([
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['no Content-Type', undefined],
  ])('not JSON (%s): 415', async (_name, type) => {
    const r = buildTestReceiver();
    const req = request(r.app).post(PATH).set(auth);
    if (type) req.set('Content-Type', type);
    const res = await req.send(Buffer.from(JSON.stringify(valid())));
    expect(res.status).toBe(415);
    await expectRejected(r, 415, 'unsupported_media_type');
  });

  test('an unknown content encoding: 415', async () => {
    const r = buildTestReceiver();
    const body = Buffer.from(JSON.stringify(valid()));
    const res = await rawPost(r.app, PATH, { ...auth, 'Content-Type': 'application/json', 'Content-Encoding': 'br-unknown' }, body);
    expect(res.status).toBe(415);
    await expectRejected(r, 415, 'unsupported_media_type');
  });

  test('application/json with a charset and unknown extra fields is fine', async () => {
    const r = buildTestReceiver();
    const body = { ...valid(), notification_reason: 'repeat', extra: { nested: [1, 2] } };
    body.alerts[0].newField = true;
    const res = await request(r.app)
      .post(PATH)
      .set({ ...auth, 'Content-Type': 'application/json; charset=utf-8' })
      .send(JSON.stringify(body));
    expect(res.status).toBe(202);
  });

  test('a path that does not URL-decode: 400, never a 500', async () => {
    const r = buildTestReceiver();
    expect((await request(r.app).get('/api/v1/targets/%E0%A4%A').set(auth)).status).toBe(400);
    expect((await request(r.app).post('/api/v1/targets/%E0%A4%A/start').set(auth)).status).toBe(400);
    expect(r.docker.calls).toEqual([]);
  });

  test('unknown paths and methods: 404, never a 500', async () => {
    const r = buildTestReceiver();
    expect((await request(r.app).get(PATH)).status).toBe(404);
    expect((await request(r.app).post('/webhook/other').set(auth).send({})).status).toBe(404);
  });
});
