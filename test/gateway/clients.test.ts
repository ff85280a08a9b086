/**
 * The official `ollama` and `openai` npm clients through the gateway against the Ollama stand-in: every
 * answer is the one the client gets without the gateway (normalised for the stand-in's clock and ids).
 */
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { metric, request, startGateway, startStandIn, type RunningGateway, type RunningStandIn } from './harness';

let standIn: RunningStandIn;
let gateway: RunningGateway;
let direct: Ollama;
let proxied: Ollama;

beforeAll(async () => {
  standIn = await startStandIn();
  gateway = await startGateway({ upstream: { url: standIn.url }, admission: { max_concurrent: 4 } });
  direct = new Ollama({ host: standIn.url });
  proxied = new Ollama({ host: gateway.url });
  // Loaded before the comparisons: the first request to a model reports its load time, the others do not.
  for (const model of ['phi3:mini', 'llama3.2:3b']) await direct.generate({ model, prompt: '' });
  await direct.embed({ model: 'all-minilm', input: 'x' });
});

afterAll(async () => {
  await gateway.close();
  await standIn.close();
});

/** Drops what differs between two identical requests: timestamps, OpenAI ids, measured time. */
function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => (['created_at', 'created', 'id', 'expires_at'].includes(key) ? '<varies>' : v));
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const parts: T[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe('the ollama client', () => {
  test('generate, not streamed', async () => {
    const ask = (c: Ollama) => c.generate({ model: 'phi3:mini', prompt: 'Why is the sky blue?', stream: false });
    const [a, b] = [await ask(direct), await ask(proxied)];
    expect(b.response).toContain('Why is the sky blue?');
    expect(normalise(b)).toEqual(normalise(a));
  });

  test('generate, streamed: the same chunks in the same order', async () => {
    const ask = async (c: Ollama) => collect(await c.generate({ model: 'phi3:mini', prompt: 'Tell a story', stream: true }));
    const [a, b] = [await ask(direct), await ask(proxied)];
    expect(b.length).toBe(13);
    expect(b.at(-1)).toMatchObject({ done: true, eval_count: 12 });
    expect(normalise(b)).toEqual(normalise(a));
  });

  test('chat, not streamed and streamed', async () => {
    const messages = [{ role: 'user', content: 'Hello there' }];
    const once = (c: Ollama) => c.chat({ model: 'llama3.2:3b', messages, stream: false });
    expect(normalise(await once(proxied))).toEqual(normalise(await once(direct)));
    const streamed = async (c: Ollama) => collect(await c.chat({ model: 'llama3.2:3b', messages, stream: true }));
    const [a, b] = [await streamed(direct), await streamed(proxied)];
    expect(b.map((p) => p.message.content).join('')).toContain('Hello there');
    expect(normalise(b)).toEqual(normalise(a));
  });

  test('embed, list, ps, show, version', async () => {
    const embed = (c: Ollama) => c.embed({ model: 'all-minilm', input: ['one', 'two'] });
    const e = await embed(proxied);
    expect(e.embeddings).toHaveLength(2);
    expect(normalise(e)).toEqual(normalise(await embed(direct)));
    expect(await proxied.list()).toEqual(await direct.list());
    const [pa, pb] = [await direct.ps(), await proxied.ps()];
    expect(pb.models.map((m) => m.name).sort()).toEqual(expect.arrayContaining(['all-minilm:latest', 'llama3.2:3b', 'phi3:mini']));
    expect(normalise(pb)).toEqual(normalise(pa));
    expect(await proxied.show({ model: 'phi3:mini' })).toEqual(await direct.show({ model: 'phi3:mini' }));
    expect(await proxied.version()).toEqual(await direct.version());
  });

  test('a model that is not installed: the client sees Ollama\'s own error, counted as client_error', async () => {
    const fail = (c: Ollama) => c.generate({ model: 'missing:7b', prompt: 'hi', stream: false }).then(() => 'no error', (e: Error) => e.message);
    expect(await fail(proxied)).toBe('model "missing:7b" not found, try pulling it first');
    expect(await fail(direct)).toBe(await fail(proxied));
    expect(await metric(gateway.registry, 'ollama_requests_total', { model: 'missing:7b', endpoint: '/api/generate', outcome: 'client_error' })).toBe(2);
  });
});

describe('the openai client against /v1', () => {
  const client = (base: string) => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'ollama' });

  test('chat completions, not streamed', async () => {
    const ask = (base: string) => client(base).chat.completions.create({ model: 'phi3:mini', messages: [{ role: 'user', content: 'Name a colour' }] });
    const [a, b] = [await ask(standIn.url), await ask(gateway.url)];
    expect(b.choices[0].message.content).toContain('Name a colour');
    expect(normalise(b)).toEqual(normalise(a));
  });

  test('chat completions, streamed (SSE) with usage', async () => {
    const ask = async (base: string) => collect(await client(base).chat.completions.create({
      model: 'phi3:mini', messages: [{ role: 'user', content: 'Count to three' }], stream: true, stream_options: { include_usage: true },
    }));
    const [a, b] = [await ask(standIn.url), await ask(gateway.url)];
    expect(b.at(-1)?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 12, total_tokens: 15 });
    expect(normalise(b)).toEqual(normalise(a));
  });

  test('models, and an unknown model in OpenAI\'s error shape', async () => {
    expect((await client(gateway.url).models.list()).data.map((m) => m.id)).toContain('phi3:mini');
    const err = await client(gateway.url).chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

test('the gateway sends Ollama its own Host: a client\'s foreign Host header does not get the 403 Ollama gives on loopback', async () => {
  const body = JSON.stringify({ model: 'phi3:mini', prompt: 'hi', stream: false });
  const headers = { Host: 'gateway.example.com', 'Content-Type': 'application/json' };
  expect((await request(standIn.url, { path: '/api/generate', headers, body })).status).toBe(403);
  const through = await request(gateway.url, { path: '/api/generate', headers, body });
  expect(through.status).toBe(200);
  expect(JSON.parse(through.body)).toMatchObject({ done: true, model: 'phi3:mini' });
});

test('status codes and the headers that matter pass unchanged; hop-by-hop headers do not', async () => {
  const a = await request(standIn.url, { method: 'GET', path: '/api/tags' });
  const b = await request(gateway.url, { method: 'GET', path: '/api/tags', headers: { Connection: 'keep-alive, X-Secret', 'X-Secret': 'hop' } });
  expect(b.status).toBe(200);
  expect(b.headers['content-type']).toBe(a.headers['content-type']);
  expect(b.headers['content-length']).toBe(a.headers['content-length']);
  expect(b.body).toBe(a.body);
  const missing = await request(gateway.url, { method: 'GET', path: '/api/nothing-here' });
  expect(missing.status).toBe(404);
  expect(await metric(gateway.registry, 'ollama_requests_total', { model: '', endpoint: 'other', outcome: 'client_error' })).toBe(1);
});
