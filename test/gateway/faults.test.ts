/**
 * Faults and bad input: each gets a defined answer (status, Ollama's error shape), a count, and leaves
 * the gateway serving.
 */
import http from 'node:http';
import net from 'node:net';
import { Ollama } from 'ollama';
import { freePort } from '../../scripts/harness/free-port';
import { readUntil, metric, postJson, request, startGateway, startStandIn, type RunningGateway, type RunningStandIn } from './harness';

let standIn: RunningStandIn;
let gateway: RunningGateway;

beforeEach(async () => {
  standIn = await startStandIn({ timing: { tokensPerSecond: 200, loadMs: 0, answerTokens: 40 } });
  gateway = await startGateway({
    upstream: { url: standIn.url },
    admission: { max_concurrent: 2, max_queue: 4 },
    limits: { body_limit_bytes: 4096, body_timeout_seconds: 0.3 },
  });
});

afterEach(async () => {
  await gateway.close();
  await standIn.close();
});

const generated = () => standIn.standIn.requests.get('/api/generate') ?? 0;
const count = (labels: Record<string, string>) => metric(gateway.registry, 'ollama_requests_total', labels);
const rejected = (reason: string) => metric(gateway.registry, 'ollama_gateway_rejected_requests_total', { reason });

describe('bad input is answered by the gateway in Ollama\'s shape and never reaches Ollama', () => {
  test('malformed JSON: 400', async () => {
    const res = await request(gateway.url, { path: '/api/generate', headers: { 'Content-Type': 'application/json' }, body: '{"model": "phi3:mini", ' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/^invalid JSON in the request body: /);
    expect(generated()).toBe(0);
    expect(await rejected('invalid_json')).toBe(1);
    expect(await count({ model: '', endpoint: '/api/generate', outcome: 'client_error' })).toBe(1);
  });

  test('a JSON body that is not an object: 400', async () => {
    const res = await request(gateway.url, { path: '/api/chat', body: '[1,2]' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'the request body must be a JSON object' });
  });

  test('missing model: 400 "model is required", as Ollama answers; OpenAI\'s shape under /v1', async () => {
    const res = await postJson(gateway.url, '/api/generate', { prompt: 'hi' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'model is required' });
    const v1 = await postJson(gateway.url, '/v1/chat/completions', { messages: [] });
    expect(v1.status).toBe(400);
    expect(JSON.parse(v1.body)).toEqual({ error: { message: 'model is required', type: 'invalid_request_error', param: null, code: null } });
    expect(generated()).toBe(0);
    expect(await rejected('missing_model')).toBe(2);
  });

  test('a body over the limit: 413, by Content-Length before reading, or while reading a chunked body', async () => {
    const big = JSON.stringify({ model: 'phi3:mini', prompt: 'x'.repeat(5000) });
    const declared = await request(gateway.url, { path: '/api/generate', headers: { 'Content-Type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toMatch(/over the gateway's limit of 4096 bytes/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gateway.url}/api/generate`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(await rejected('body_too_large')).toBe(2);
    expect(generated()).toBe(0);
  });

  test('a client that sends its body too slowly: 408 after body_timeout_seconds', async () => {
    const port = Number(new URL(gateway.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":');
      });
      let text = '';
      socket.on('data', (d) => { text += d.toString(); });
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('not received within 0.3 s');
    expect(await rejected('body_timeout')).toBe(1);
  });

  test('a client that sends its headers too slowly is cut off (header timeout)', async () => {
    const slow = await startGateway({ upstream: { url: standIn.url } }, { headersTimeoutMs: 300 });
    try {
      const port = Number(new URL(slow.url).port);
      const started = Date.now();
      const closed = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /api/tags HTTP/1.1\r\nHost: x\r\n'));
        let text = '';
        socket.on('data', (d) => { text += d.toString(); });
        socket.on('close', () => resolve(text));
      });
      expect(closed).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await slow.close();
    }
  });
});

describe('answers from Ollama pass through and are counted', () => {
  test('Ollama answering 500: passed through unchanged, counted as upstream_error', async () => {
    await postJson(standIn.url, '/_standin/options', { failNext: { status: 500, error: 'llama runner process has terminated' } });
    const res = await postJson(gateway.url, '/api/chat', { model: 'phi3:mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'llama runner process has terminated' });
    expect(await count({ model: 'phi3:mini', endpoint: '/api/chat', outcome: 'upstream_error' })).toBe(1);
  });

  test('Ollama answering 503 over its own queue: passed through', async () => {
    await postJson(standIn.url, '/_standin/options', { failNext: { status: 503, error: 'server busy, please try again.  maximum pending requests exceeded' } });
    const res = await postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt: 'x', stream: false });
    expect(res.status).toBe(503);
    expect(await count({ model: 'phi3:mini', endpoint: '/api/generate', outcome: 'upstream_error' })).toBe(1);
  });
});

describe('broken connections', () => {
  test('the client goes away mid-stream: the upstream request is aborted, the slot freed, counted as aborted', async () => {
    await postJson(standIn.url, '/_standin/options', { answerTokens: 2000 });
    const controller = new AbortController();
    const client = new Ollama({ host: gateway.url, fetch: (input, init) => fetch(input, { ...init, signal: controller.signal }) });
    const stream = await client.generate({ model: 'phi3:mini', prompt: 'a long story', stream: true });
    let parts = 0;
    await expect((async () => {
      for await (const _ of stream) {
        if (++parts === 3) controller.abort();
      }
    })()).rejects.toThrow();
    await readUntil(() => count({ model: 'phi3:mini', endpoint: '/api/generate', outcome: 'aborted' }), (v) => v === 1);
    // The stand-in stops generating once the gateway closes its side.
    await readUntil(async () => JSON.parse((await request(standIn.url, { method: 'GET', path: '/_standin/state' })).body).running, (v) => v === 0);
    expect(await metric(gateway.registry, 'ollama_requests_in_flight')).toBe(0);
  });

  test.each([
    ['a generation', 'POST', '/api/generate', '{"model":"phi3:mini","prompt":"x"}'],
    ['a metadata request', 'GET', '/api/tags', undefined],
  ])('the client goes away before Ollama answers %s: the connection to Ollama is closed, counted as aborted', async (_, method, path, body) => {
    // An Ollama that takes the request and never answers: only the gateway closing its side ends the connection.
    const silent = net.createServer();
    const closed = new Promise<void>((resolve) => silent.on('connection', (socket) => socket.on('close', () => resolve())));
    const received = new Promise<void>((resolve) => silent.on('connection', (socket) => socket.once('data', () => resolve())));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const waiting = await startGateway({ upstream: { url: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` } });
    try {
      const req = http.request(`${waiting.url}${path}`, { method, headers: body ? { 'Content-Type': 'application/json' } : {} });
      req.on('error', () => undefined);
      req.end(body);
      await received;
      req.destroy();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => (timer = setTimeout(r, 3000, 'still open after 3 s')))]);
      clearTimeout(timer);
      expect(outcome).toBe('closed');
      const model = body ? 'phi3:mini' : '';
      await readUntil(() => metric(waiting.registry, 'ollama_requests_total', { model, endpoint: path, outcome: 'aborted' }), (v) => v === 1);
    } finally {
      await waiting.close();
      silent.close();
    }
  });

  test('a client that stops reading holds Ollama back: the gateway does not buffer the answer', async () => {
    // An Ollama that streams 64 MiB as fast as the connection takes it, counting what the gateway accepted.
    let written = 0;
    const fast = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      const line = Buffer.from(`${JSON.stringify({ model: 'phi3:mini', response: 'x'.repeat(65_000), done: false })}\n`);
      const pump = () => {
        while (written < 64 * 2 ** 20 && !res.destroyed) {
          written += line.length;
          if (!res.write(line)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => fast.listen(0, '127.0.0.1', resolve));
    const proxied = await startGateway({ upstream: { url: `http://127.0.0.1:${(fast.address() as net.AddressInfo).port}` } });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${proxied.url}/api/generate`, { method: 'POST' }, resolve);
        req.on('error', reject);
        req.end('{"model":"phi3:mini","prompt":"x"}');
      });
      res.pause();
      await new Promise((r) => setTimeout(r, 1000));
      // Socket buffers on three connections and a few stream buffers: a few MiB at most, not the 64 MiB answer.
      expect(written).toBeLessThan(16 * 2 ** 20);
      let received = 0;
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.resume();
      await new Promise((r) => res.once('end', r));
      expect(received).toBe(written);
    } finally {
      await proxied.close();
      fast.closeAllConnections();
      fast.close();
    }
  });

  test('Ollama dies mid-stream: the client gets an error line as Ollama would send, counted as upstream_error', async () => {
    await postJson(standIn.url, '/_standin/options', { breakAfterTokens: 3 });
    const client = new Ollama({ host: gateway.url });
    const parts: string[] = [];
    const failure = await (async () => {
      for await (const part of await client.generate({ model: 'phi3:mini', prompt: 'x', stream: true })) parts.push(part.response as string);
    })().then(() => 'completed', (e: Error) => e.message);
    expect(parts).toHaveLength(3);
    expect(failure).toBe('Ollama closed the connection before the answer was complete');
    expect(await count({ model: 'phi3:mini', endpoint: '/api/generate', outcome: 'upstream_error' })).toBe(1);
    expect(await metric(gateway.registry, 'ollama_gateway_upstream_errors_total', { reason: 'broken_stream' })).toBe(1);
    await postJson(standIn.url, '/_standin/options', { breakAfterTokens: null });
    const after = await postJson(gateway.url, '/api/generate', { model: 'phi3:mini', prompt: 'x', stream: false });
    expect(after.status).toBe(200);
  });

  test('Ollama down and no wake configured: 503 with Retry-After and Ollama\'s error shape, at once', async () => {
    const port = await freePort();
    const down = await startGateway({ upstream: { url: `http://127.0.0.1:${port}` }, admission: { retry_after_seconds: 7 } });
    try {
      const res = await postJson(down.url, '/api/generate', { model: 'phi3:mini', prompt: 'x' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
      expect(JSON.parse(res.body).error).toBe(`Ollama cannot be reached at http://127.0.0.1:${port} (ECONNREFUSED); no wake is configured`);
      const tags = await request(down.url, { method: 'GET', path: '/api/tags' });
      expect(tags.status).toBe(503);
      expect(await metric(down.registry, 'ollama_requests_total', { model: 'phi3:mini', endpoint: '/api/generate', outcome: 'unavailable' })).toBe(1);
      expect(await metric(down.registry, 'ollama_gateway_upstream_errors_total', { reason: 'connect_refused' })).toBe(2);
      expect(await metric(down.registry, 'ollama_requests_in_flight')).toBe(0);
    } finally {
      await down.close();
    }
  });

  test('an unresolvable upstream name (a stopped container in Docker\'s DNS) is "unavailable" too', async () => {
    const down = await startGateway({ upstream: { url: 'http://ollama-stopped.invalid:11434' } });
    try {
      const res = await postJson(down.url, '/api/chat', { model: 'phi3:mini', messages: [] });
      expect(res.status).toBe(503);
      expect(await metric(down.registry, 'ollama_gateway_upstream_errors_total', { reason: 'dns' })).toBe(1);
    } finally {
      await down.close();
    }
  });
});

test('a client that asks for 100-continue (curl does for bodies over 1 KiB) gets its answer; the request reaches Ollama once', async () => {
  const prompt = 'x'.repeat(3000);
  const big = JSON.stringify({ model: 'phi3:mini', prompt, stream: false });
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${gateway.url}/api/generate`, { method: 'POST', headers: { Expect: '100-continue', 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(big)) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('continue', () => req.end(big));
    req.on('error', reject);
  });
  expect(status).toBe(200);
  expect(generated()).toBe(1);
});
