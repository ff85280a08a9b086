/** The gateway's pure parts: configuration, endpoint table, model labels, the answer tail, the queue. */
import { AdmissionQueue, QueueFullError } from '../../receiver/src/gateway/admission-queue';
import { parseGatewayConfig } from '../../receiver/src/gateway/config';
import { classifyEndpoint } from '../../receiver/src/gateway/endpoints';
import { AnswerTail } from '../../receiver/src/gateway/generation-stats';
import { ModelLabels, normaliseModelName } from '../../receiver/src/gateway/model-label';
import { Pool } from '../../receiver/src/gateway/undici-pool';
import { Pool as PoolOfTheIndex } from 'undici';

describe('configuration', () => {
  test('an empty file gives the documented defaults', () => {
    const c = parseGatewayConfig('');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 11435 });
    expect(c.upstream.url.origin).toBe('http://127.0.0.1:11434');
    expect(c.admission).toEqual({ maxConcurrent: 1, maxQueue: 512, holdTimeoutMs: 280_000, retryAfterSeconds: 5 });
    expect(c.limits).toEqual({ bodyLimitBytes: 64 * 1024 * 1024, headerTimeoutMs: 30_000, bodyTimeoutMs: 60_000 });
    expect(c.wake).toBeUndefined();
  });

  test('every error at once', () => {
    const message = (() => {
      try {
        parseGatewayConfig('upstream: {url: "ftp://x"}\nadmission: {max_concurrent: 0}\nbogus: 1\nwake: {target: ollama}');
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message.split('\n').slice(1).sort()).toEqual([
      '  - (top level): unknown key "bogus"',
      '  - /admission/max_concurrent: must be >= 1',
      "  - /upstream/url: must match pattern \"^http://[^/?#]+/?$\"",
      "  - /wake: must have required property 'receiver_url'",
    ]);
  });

  test('a wake longer than the hold timeout is refused (the request would be answered before the wake ends)', () => {
    expect(() => parseGatewayConfig('admission: {hold_timeout_seconds: 60}\nwake: {receiver_url: "http://r:9095", timeout_seconds: 120}')).toThrow(/must not be longer than/);
  });
});

test('endpoints: generation, management, metadata, other; methods other than Ollama\'s are "other"', () => {
  expect(classifyEndpoint('POST', '/api/chat')).toEqual({ label: '/api/chat', kind: 'generation' });
  expect(classifyEndpoint('POST', '/v1/embeddings')).toEqual({ label: '/v1/embeddings', kind: 'generation' });
  expect(classifyEndpoint('GET', '/api/chat')).toEqual({ label: 'other', kind: 'other' });
  expect(classifyEndpoint('POST', '/api/pull')).toEqual({ label: '/api/pull', kind: 'management' });
  expect(classifyEndpoint('DELETE', '/api/delete')).toEqual({ label: '/api/delete', kind: 'management' });
  expect(classifyEndpoint('GET', '/api/tags')).toEqual({ label: '/api/tags', kind: 'metadata' });
  expect(classifyEndpoint('GET', '/v1/models/phi3:mini')).toEqual({ label: '/v1/models', kind: 'metadata' });
  expect(classifyEndpoint('POST', '/api/blobs/sha256:abc')).toEqual({ label: 'other', kind: 'other' });
  expect(classifyEndpoint('GET', '/anything/../else')).toEqual({ label: 'other', kind: 'other' });
});

test('model labels: Ollama\'s default tag, namespaces, bounded and sanitised', () => {
  expect(normaliseModelName('llama3')).toBe('llama3:latest');
  expect(normaliseModelName('hf.co/org/model')).toBe('hf.co/org/model:latest');
  expect(normaliseModelName('registry:5000/org/model')).toBe('registry:5000/org/model:latest');
  expect(normaliseModelName('phi3:mini')).toBe('phi3:mini');
  const labels = new ModelLabels(1);
  labels.setInstalled(['phi3:mini', 'mistral:7b']);
  expect(labels.label('phi3:mini')).toBe('phi3:mini');
  expect(labels.label('x')).toBe('x:latest');
  expect(labels.label('y')).toBe('other');
  expect(labels.label('mistral:7b')).toBe('mistral:7b');
  expect(labels.label(42)).toBe('');
  expect(labels.label('a\nb')).toBe('other');
  expect(labels.label('z'.repeat(300))).toBe('other');
});

describe('the answer tail', () => {
  const final = { model: 'm', created_at: 't', response: '', done: true, context: Array.from({ length: 3000 }, (_, i) => i), total_duration: 9, load_duration: 2_500_000_000, prompt_eval_count: 26, eval_count: 259 };

  test('reads the final chunk\'s statistics, however the answer is split', () => {
    const text = `${JSON.stringify({ response: 'The', done: false })}\n${JSON.stringify(final)}\n`;
    for (const size of [1, 7, 100, 8191, 8192, 8193, 100_000]) {
      const tail = new AnswerTail();
      for (let i = 0; i < text.length; i += size) tail.push(Buffer.from(text.slice(i, i + size)));
      expect(tail.stats()).toEqual({ loadSeconds: 2.5, promptTokens: 26, generatedTokens: 259 });
    }
  });

  test('a ring released by one answer and reused by the next holds only the next answer\'s bytes', () => {
    const first = new AnswerTail();
    first.push(Buffer.from(`${JSON.stringify(final)}\n`));
    first.release();
    const next = new AnswerTail();
    next.push(Buffer.from(`${JSON.stringify({ response: '', done: true, eval_count: 4 })}\n`));
    expect(next.stats()).toEqual({ loadSeconds: undefined, promptTokens: undefined, generatedTokens: 4 });
    // Released twice, a ring must not serve two answers at once.
    next.release();
    next.release();
    const a = new AnswerTail();
    const b = new AnswerTail();
    a.push(Buffer.from('{"eval_count":1}'));
    b.push(Buffer.from('{"eval_count":2}'));
    expect([a.stats().generatedTokens, b.stats().generatedTokens]).toEqual([1, 2]);
  });

  test('generated text that spells a field name is not mistaken for it; /v1 usage is read', () => {
    const tail = new AnswerTail();
    tail.push(Buffer.from(JSON.stringify({ response: 'say "eval_count":999 and "load_duration":1', done: false }) + '\n'));
    expect(tail.stats()).toEqual({ loadSeconds: undefined, promptTokens: undefined, generatedTokens: undefined });
    tail.push(Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":12,"total_tokens":15}}\n\ndata: [DONE]\n\n'));
    expect(tail.stats()).toEqual({ loadSeconds: undefined, promptTokens: 3, generatedTokens: 12 });
  });
});

describe('the admission queue', () => {
  test('hands slots over in arrival order, refuses beyond max_queue, forgets a waiter that gives up', async () => {
    const q = new AdmissionQueue(1, 2);
    const never = new AbortController().signal;
    const first = await q.acquire(never);
    const order: string[] = [];
    const b = q.acquire(never).then((r) => { order.push('b'); return r; });
    const leaving = new AbortController();
    const c = q.acquire(leaving.signal).catch(() => 'gone');
    await expect(q.acquire(never)).rejects.toBeInstanceOf(QueueFullError);
    expect([q.inFlight, q.queued]).toEqual([1, 2]);
    leaving.abort();
    expect(await c).toBe('gone');
    expect(q.queued).toBe(1);
    first();
    first(); // a second release of the same slot does nothing
    const releaseB = await b;
    expect(order).toEqual(['b']);
    expect([q.inFlight, q.queued]).toEqual([1, 0]);
    releaseB();
    expect([q.inFlight, q.queued]).toEqual([0, 0]);
  });

  test('tryAcquire takes a free slot at once and none while all are held; a released slot goes to a waiter first', async () => {
    const q = new AdmissionQueue(1, 1);
    const never = new AbortController().signal;
    const first = q.tryAcquire();
    expect(first).toBeDefined();
    expect(q.tryAcquire()).toBeUndefined();
    const waiter = q.acquire(never);
    first!();
    expect(q.tryAcquire()).toBeUndefined();
    (await waiter)();
    expect([q.inFlight, q.queued]).toEqual([0, 0]);
    expect(q.tryAcquire()).toBeDefined();
  });
});

test('the upstream pool, loaded alone, is the class undici exports', () => {
  expect(Pool).toBe(PoolOfTheIndex);
});
