import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import yaml from 'js-yaml';
import request from 'supertest';
import { MAX_ALERTS } from '../../../receiver/src/webhook/payload';
import { fixtureBytes, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
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

  test.each([
    ['a missing field', (b: any) => delete b.groupKey, { path: '/', message: "must have required property 'groupKey'" }],
    ['a wrong constant', (b: any) => (b.version = '3'), { path: '/version', message: 'must be equal to constant' }],
    ['a label that is not a string', (b: any) => (b.alerts[0].labels.ai_dispatcher_action = 42), { path: '/alerts/0/labels/ai_dispatcher_action', message: 'must be string' }],
  ])('schema violation (%s): 400 with the problem in the body', async (_name, spoil, problem) => {
    const r = buildTestReceiver();
    const body = valid();
    spoil(body);
    const res = await request(r.app).post(PATH).set(auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_payload');
    expect(res.body.errors).toEqual([problem]);
    await expectRejected(r, 400, 'invalid');
  });

  // Issue 15: with every problem collected, 340,000 empty alerts in 1 MiB made 2.4 million error objects
  // (seconds of event loop, hundreds of MB). scripts/bench/receiver-fuzz.ts --worst-case measures time and RSS.
  test('a body with thousands of problems: validation stops at the first one', async () => {
    const r = buildTestReceiver();
    const body = valid();
    body.alerts = Array.from({ length: 900 }, () => ({}));
    const res = await request(r.app).post(PATH).set(auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: '/alerts/0', message: "must have required property 'status'" }]);
  });

  test.each([
    ['more alerts than Alertmanager is configured to send (max_alerts)', (b: any) => (b.alerts = Array.from({ length: MAX_ALERTS + 1 }, () => ({}))), 'an object or array with more than 1000 entries'],
    ['340,000 empty alerts', (b: any) => (b.alerts = Array.from({ length: 340_000 }, () => ({}))), 'an object or array with more than 1000 entries'],
    ['a label map of 50,000 keys', (b: any) => Object.assign(b.alerts[0].labels, Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`l${i}`, 'v']))), 'an object or array with more than 1000 entries'],
    ['100 arrays of 1000 numbers in an unknown field', (b: any) => (b.padding = Array.from({ length: 100 }, () => Array(1000).fill(0))), 'more than 100000 values'],
    ['100,000 levels of nesting in a label map', null, 'nested deeper than 32 levels'],
  ])('%s: 400 before the body is parsed', async (_name, spoil, message) => {
    const r = buildTestReceiver();
    const body = valid();
    let text: string;
    if (spoil) {
      spoil(body);
      text = JSON.stringify(body);
    } else {
      text = JSON.stringify({ ...body, commonLabels: '__D__' }).replace('"__D__"', '{"a":'.repeat(100_000) + '"x"' + '}'.repeat(100_000));
    }
    const res = await request(r.app).post(PATH).set(auth).set('Content-Type', 'application/json').send(text);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'too_complex', message: `the body is not an Alertmanager notification: ${message}` });
    await expectRejected(r, 400, 'invalid');
  });

  test('a charset other than UTF-8: 415', async () => {
    const r = buildTestReceiver();
    const res = await request(r.app).post(PATH).set(auth).set('Content-Type', 'application/json; charset=utf-16le').send(Buffer.from(JSON.stringify(valid()), 'utf16le'));
    expect(res.status).toBe(415);
    await expectRejected(r, 415, 'unsupported_media_type');
  });

  test('the cap is the max_alerts of the Alertmanager config we ship', () => {
    const am = yaml.load(fs.readFileSync(path.join(__dirname, '../../../rules/alertmanager/alertmanager.yml'), 'utf8')) as any;
    const hook = am.receivers.find((x: any) => x.name === 'ai-dispatcher').webhook_configs[0];
    expect(hook.max_alerts).toBe(MAX_ALERTS);
  });

  test('exactly the cap of valid alerts is accepted', async () => {
    const r = buildTestReceiver();
    const body = valid();
    body.alerts = Array.from({ length: MAX_ALERTS }, (_, i) => ({ ...body.alerts[0], fingerprint: `f${i}` }));
    const res = await request(r.app).post(PATH).set(auth).send(body);
    expect(res.status).toBe(202);
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
