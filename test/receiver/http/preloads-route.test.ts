/**
 * POST /api/v1/targets/NAME/preloads: the gateway's report of a model preload round. Kept as the target's
 * lastPreload in GET /api/v1/targets, counted in ai_dispatcher_preloads_total; every malformed or hostile body
 * gets a 4xx and changes nothing, and nothing reaches Docker.
 */
import request from 'supertest';
import { ManualClock } from '../../support/manual-clock';
import { TEST_TOKEN, buildTestReceiver, type TestReceiver } from '../../support/receiver-app';

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
const AT = '2026-12-02T08:45:03.120Z';

let r: TestReceiver;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-12-02T08:45:04Z'));
  r = buildTestReceiver({ clock });
  await r.start();
});
afterEach(async () => {
  await r.close();
});

const report = (body: unknown, target = 'ollama') => request(r.app).post(`/api/v1/targets/${target}/preloads`).set(auth).send(body as object);
const view = async (target = 'ollama') => (await request(r.app).get(`/api/v1/targets/${target}`).set(auth)).body;
const dockerCalls = () => r.docker.calls.filter((c) => c.op !== 'inspect' && c.op !== 'ping');

test('a round is shown as the target\'s lastPreload and counted per model by result', async () => {
  expect((await view()).lastPreload).toBeNull();
  expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'loaded' })).toBe(0);
  const before = dockerCalls().length;

  const res = await report({ at: AT, models: [{ model: 'mistral:7b', result: 'loaded' }, { model: 'qwen9:404b', result: 'failed' }] });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ target: 'ollama', recorded: 2 });
  expect((await view()).lastPreload).toEqual({
    at: AT,
    receivedAt: '2026-12-02T08:45:04.000Z',
    models: [{ model: 'mistral:7b', result: 'loaded' }, { model: 'qwen9:404b', result: 'failed' }],
    allLoaded: false,
  });
  const all = (await request(r.app).get('/api/v1/targets').set(auth)).body.targets as Array<{ name: string; lastPreload: unknown }>;
  expect(all.find((t) => t.name === 'embeddings')?.lastPreload).toBeNull();
  expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'loaded' })).toBe(1);
  expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'failed' })).toBe(1);
  expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'embeddings' })).toBe(0);
  expect(dockerCalls().length).toBe(before);

  // The next round replaces the last one; the counter goes on.
  clock.advance(60_000);
  expect((await report({ at: '2026-12-02T08:46:03Z', models: [{ model: 'mistral:7b', result: 'loaded' }] })).status).toBe(200);
  expect((await view()).lastPreload).toEqual(expect.objectContaining({ at: '2026-12-02T08:46:03.000Z', models: [{ model: 'mistral:7b', result: 'loaded' }], allLoaded: true }));
  expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'loaded' })).toBe(2);
});

test('a round without a recommendation (model "") is recorded and counted', async () => {
  expect((await report({ at: AT, models: [{ model: '', result: 'no_recommendation' }] })).status).toBe(200);
  expect((await view()).lastPreload.models).toEqual([{ model: '', result: 'no_recommendation' }]);
  expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'ollama', result: 'no_recommendation' })).toBe(1);
});

describe('refused, and nothing recorded or counted', () => {
  const ok = { model: 'mistral:7b', result: 'loaded' };
  const cases: Array<[string, unknown, string]> = [
    ['not an object', [ok], 'must be object'],
    ['no time', { models: [ok] }, "must have required property 'at'"],
    ['a time that is not one', { at: 'yesterday', models: [ok] }, '/at must match format "date-time"'],
    ['no models', { at: AT, models: [] }, '/models must NOT have fewer than 1 items'],
    ['more models than a round can have', { at: AT, models: Array.from({ length: 65 }, (_, i) => ({ model: `m${i}`, result: 'loaded' })) }, '/models must NOT have more than 64 items'],
    ['an unknown result', { at: AT, models: [{ model: 'mistral:7b', result: 'maybe' }] }, '/models/0/result must be equal to one of the allowed values'],
    ['a model name Ollama does not spell', { at: AT, models: [{ model: '../../etc/passwd', result: 'loaded' }] }, '/models/0/model must match pattern'],
    ['a model name with a newline', { at: AT, models: [{ model: 'phi3\nmini', result: 'failed' }] }, '/models/0/model must match pattern'],
    ['a loaded model without a name', { at: AT, models: [{ model: '', result: 'loaded' }] }, '/models/0/model must match pattern'],
    ['no recommendation that names a model', { at: AT, models: [{ model: 'phi3:mini', result: 'no_recommendation' }] }, '/models/0/model must be equal to constant'],
    ['an unknown field', { at: AT, models: [ok], extra: 1 }, 'must NOT have additional properties'],
    ['a model name over 200 characters', { at: AT, models: [{ model: 'a'.repeat(201), result: 'loaded' }] }, '/models/0/model must'] /* the pattern's length bound or maxLength */,
  ];
  test.each(cases)('400 for %s', async (_what, body, message) => {
    const res = await report(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_preload_round', message: expect.stringContaining(message) });
    expect((await view()).lastPreload).toBeNull();
    expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'ollama' })).toBe(0);
  });

  test('400 for malformed JSON, 415 for another media type, 413 over 32 KiB', async () => {
    const malformed = await request(r.app).post('/api/v1/targets/ollama/preloads').set(auth).set('Content-Type', 'application/json').send('{"at":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('malformed_json');
    const text = await request(r.app).post('/api/v1/targets/ollama/preloads').set(auth).set('Content-Type', 'text/plain').send('{}');
    expect(text.status).toBe(415);
    const big = await report({ at: AT, models: [ok], pad: 'x'.repeat(40_000) });
    expect(big.status).toBe(413);
    expect((await view()).lastPreload).toBeNull();
  });

  test('404 for a target not in the configuration, 401 without the token', async () => {
    const unknown = await report({ at: AT, models: [ok] }, 'postgres');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('unknown_target');
    expect(await r.metricValue('ai_dispatcher_preloads_total', { target: 'postgres' })).toBe(0);
    const anonymous = await request(r.app).post('/api/v1/targets/ollama/preloads').send({ at: AT, models: [ok] });
    expect(anonymous.status).toBe(401);
    expect((await view()).lastPreload).toBeNull();
    expect(dockerCalls().filter((c) => c.op === 'start' || c.op === 'stop')).toEqual([]);
  });
});
