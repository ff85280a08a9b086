/**
 * Hostile inputs for the receiver's webhook, generated deterministically from a seed, and a sender for them.
 * Every input is one that can never be a valid, authorized Alertmanager notification, so the only right
 * answers are 4xx (or, for a client that gives up mid-body, no answer) and no action at all. Used by
 * scripts/bench/receiver-fuzz.ts (10,000 inputs) and test/receiver/fuzz/hostile-inputs.test.ts (500).
 *
 * Kinds: malformed JSON, JSON that is not an object, wrong types and missing fields in an otherwise valid body,
 * deep nesting, huge strings (under and over the body limit), a gzip bomb, bad credentials (with a body that
 * would start the target if it were authorized), wrong media types and encodings, prototype-pollution keys,
 * oversized headers, and slow bodies (slowloris-style: headers and body trickled over up to ~2 s, some abandoned).
 */
import net from 'node:net';
import zlib from 'node:zlib';
import { prng } from '../harness/prng';

export interface HostileInput {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Sent in `chunks` pieces `delayMs` apart (headers included); `abandon`: the client closes before the end. */
  slow?: { chunks: number; delayMs: number; abandon: boolean };
}

export interface HostileAnswer {
  input: HostileInput;
  /** 0: no answer (connection closed without a status line, expected only for abandoned slow bodies). */
  status: number;
  error?: string;
  ms: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface GeneratorOptions {
  /** The receiver's real token: bad credentials are built close to it (prefixes, wrong user, extra byte). */
  token: string;
  /** A valid notification that would start a configured target (the captured body with contract labels). */
  validBody: string;
  bodyLimitBytes: number;
}

export function generateHostileInputs(count: number, seed: number, o: GeneratorOptions): HostileInput[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const auth = { authorization: `Bearer ${o.token}` };
  const json = { 'content-type': 'application/json' };
  const valid = () => JSON.parse(o.validBody) as { [key: string]: Json } & { alerts: Array<{ [key: string]: Json }> };
  const randomString = (n: number) => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789"\\{}[]:,\u0000\u00e9\u2028\ud83d\ude00 ';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  const wrongValue = (): Json => pick<Json>([null, 0, -1, 1e308, true, [], {}, [1, 2], { a: 1 }, '', 'x'.repeat(int(1, 300))]);
  const input = (kind: string, body: string | Buffer, headers: Record<string, string> = { ...json, ...auth }): HostileInput => ({
    kind,
    method: 'POST',
    path: '/webhook/alertmanager',
    headers,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });

  const makers: Array<() => HostileInput> = [
    // Malformed JSON.
    () => input('malformed: truncated', o.validBody.slice(0, int(1, o.validBody.length - 2))),
    () => input('malformed: random bytes', Buffer.from(Array.from({ length: int(1, 2000) }, () => int(0, 255)))),
    () => input('malformed: trailing garbage', o.validBody + pick(['}', ',', 'x', '\u0000', ' {"a":1}'])),
    () => input('malformed: random text', randomString(int(1, 500))),
    () => input('malformed: empty body', ''),
    () => input('malformed: not UTF-8', Buffer.concat([Buffer.from('{"version":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')])),
    // Valid JSON, not an object.
    () => input('not an object', JSON.stringify(pick<Json>([null, 0, 4, 'version', true, [], [valid()], [[]]]))),
    // Wrong types, one field at a time (each one violates the schema by itself).
    () => {
      const b = valid();
      const field = pick(['version', 'receiver', 'status', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'groupKey']);
      b[field] = field === 'version' ? pick<Json>(['3', '5', 4, null, '']) : field === 'status' ? pick<Json>(['Firing', 'ok', 1, null]) : pick<Json>([null, 1, true, [1], {}]);
      if (field.endsWith('Labels') || field === 'commonAnnotations') b[field] = pick<Json>([null, 'x', [1], { k: 1 }, { k: null }, { k: ['v'] }]);
      return input(`wrong type: ${field}`, JSON.stringify(b));
    },
    () => {
      const b = valid();
      const field = pick(['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint']);
      const bad: Json = field === 'labels' || field === 'annotations' ? pick<Json>([null, [], 'x', { ai_dispatcher_target: 1 }, { ai_dispatcher_action: ['start'] }, { k: { nested: 'v' } }]) : field === 'status' ? pick<Json>(['active', 'FIRING', 0, null]) : wrongValue();
      if (typeof bad === 'string' && field !== 'status') return input('wrong type: alert (null)', JSON.stringify({ ...b, alerts: [{ ...b.alerts[0], [field]: null }] }));
      b.alerts[0]![field] = bad;
      return input(`wrong type: alerts[].${field}`, JSON.stringify(b));
    },
    () => {
      const b = valid();
      b.alerts = pick<Json>([null, {}, 'x', 1, [null], [1], ['alert'], [[]]]) as never;
      return input('wrong type: alerts items', JSON.stringify(b));
    },
    () => {
      const b = valid();
      b.truncatedAlerts = pick<Json>([-1, 1.5, '3', null, []]);
      return input('wrong type: truncatedAlerts', JSON.stringify(b));
    },
    // Missing required fields.
    () => {
      const b = valid();
      const field = pick(['version', 'receiver', 'status', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'groupKey']);
      delete b[field];
      return input(`missing: ${field}`, JSON.stringify(b));
    },
    () => {
      const b = valid();
      delete b.alerts[0]![pick(['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint'])];
      return input('missing: alerts[] field', JSON.stringify(b));
    },
    // Deep nesting (parsed iteratively by V8; the schema rejects it at the first level it checks).
    () => {
      const depth = int(1000, 100_000);
      return input('deep nesting: top-level array', '['.repeat(depth) + ']'.repeat(depth));
    },
    () => {
      const depth = int(1000, 50_000);
      const b = valid();
      const text = JSON.stringify({ ...b, commonLabels: '__DEEP__' });
      return input('deep nesting: in a label map', text.replace('"__DEEP__"', '{"a":'.repeat(depth) + '"x"' + '}'.repeat(depth)));
    },
    () => {
      const depth = int(1000, 50_000);
      const b = valid();
      const text = JSON.stringify({ ...b, version: '__DEEP__' });
      return input('deep nesting: as version', text.replace('"__DEEP__"', '['.repeat(depth) + ']'.repeat(depth)));
    },
    // Huge strings: under the limit (schema error), and over it (413 before parsing).
    () => {
      const b = valid();
      b.alerts[0]!.fingerprint = 'f'.repeat(o.bodyLimitBytes - o.validBody.length - 200);
      delete b.groupKey;
      return input('huge string under the limit (invalid)', JSON.stringify(b));
    },
    () => {
      const b = valid();
      (b.alerts[0]!.labels as Record<string, Json>).ai_dispatcher_target = 'x'.repeat(o.bodyLimitBytes + int(1, 100_000));
      return input('huge string over the limit', JSON.stringify(b));
    },
    () => input('huge body over the limit (valid JSON)', JSON.stringify({ ...valid(), padding: 'p'.repeat(o.bodyLimitBytes * 2) })),
    () => input('gzip bomb', zlib.gzipSync(Buffer.from(JSON.stringify({ ...valid(), padding: ' '.repeat(o.bodyLimitBytes * 8) }))), { ...json, ...auth, 'content-encoding': 'gzip' }),
    // Bad credentials on a body that would start the target.
    () => {
      const header = pick([
        undefined,
        '',
        'Bearer',
        'Bearer ',
        `Bearer ${o.token.slice(0, int(0, o.token.length - 1))}`,
        `Bearer ${o.token}x`,
        `Bearer  ${o.token.toUpperCase()}`,
        `bearer ${o.token.split('').reverse().join('')}`,
        `Token ${o.token}`,
        o.token,
        `Basic ${Buffer.from(`${o.token}:`).toString('base64')}`,
        `Basic ${Buffer.from(`alertmanager:${o.token.slice(1)}`).toString('base64')}`,
        `Basic ${Buffer.from(o.token).toString('base64')}`,
        'Basic !!!not-base64!!!',
        `Bearer ${randomString(int(1, 64))}`,
        `Bearer ${'A'.repeat(int(100, 6000))}`,
      ]);
      const headers: Record<string, string> = { ...json };
      if (header !== undefined) headers.authorization = header;
      if (rand() < 0.2) headers['x-ai-dispatcher-token'] = o.token;
      return input('bad credentials', o.validBody, headers);
    },
    // Wrong media types and encodings.
    () => input('wrong content-type', o.validBody, { ...auth, 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'json', 'application/xml', '']) }),
    () => input('no content-type', o.validBody, { ...auth }),
    () => input('unsupported encoding', o.validBody, { ...json, ...auth, 'content-encoding': pick(['compress', 'x-unknown', 'gzip, x-unknown']) }),
    () => input('unsupported charset', o.validBody, { ...auth, 'content-type': `application/json; charset=${pick(['ebcdic-xx', 'utf-7x', 'klingon'])}` }),
    // Prototype-pollution keys in an otherwise invalid body.
    () => {
      const text = o.validBody.replace('"version":"4"', `"version":4,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}`);
      return input('prototype pollution keys', text);
    },
    // Oversized header block (Node answers 431).
    () => input('oversized headers', o.validBody, { ...json, ...auth, 'x-padding': 'h'.repeat(int(17_000, 40_000)) }),
    // Slow bodies.
    () => {
      const b = valid();
      delete b.receiver;
      return { ...input('slow body (completes, invalid)', JSON.stringify(b)), slow: { chunks: int(5, 20), delayMs: int(20, 100), abandon: false } };
    },
    () => ({ ...input('slow body (abandoned)', o.validBody), slow: { chunks: int(5, 20), delayMs: int(20, 100), abandon: true } }),
    () => {
      const { authorization: _dropped, ...headers } = { ...json, ...auth };
      return { ...input('slow body, no credentials', o.validBody, headers), slow: { chunks: int(5, 20), delayMs: int(20, 100), abandon: false } };
    },
  ];

  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!());
}

/** Sends one input over a raw socket (exact bytes, control over timing); never throws. */
export function sendHostile(host: string, port: number, input: HostileInput, timeoutMs = 30_000): Promise<HostileAnswer> {
  const began = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let answer = '';
    let done = false;
    const finish = (status: number, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ input, status, error, ms: performance.now() - began });
    };
    const timer = setTimeout(() => finish(0, 'client timeout'), timeoutMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (match) finish(Number(match[1]));
    });
    socket.on('error', (err) => finish(0, (err as NodeJS.ErrnoException).code ?? err.message));
    socket.on('close', () => finish(0, 'closed without an answer'));
    socket.on('connect', () => {
      const head = [`${input.method} ${input.path} HTTP/1.1`, `Host: ${host}:${port}`, 'Connection: close', `Content-Length: ${input.body.length}`];
      for (const [k, v] of Object.entries(input.headers)) head.push(`${k}: ${v}`);
      const bytes = Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), input.body]);
      if (!input.slow) {
        socket.write(bytes);
        return;
      }
      const { chunks, delayMs, abandon } = input.slow;
      const size = Math.ceil(bytes.length / chunks);
      let i = 0;
      const next = () => {
        if (done) return;
        if (abandon && i === chunks - 1) {
          socket.destroy();
          finish(0, 'abandoned by the client');
          return;
        }
        socket.write(bytes.subarray(i * size, (i + 1) * size));
        i += 1;
        if (i < chunks) setTimeout(next, delayMs);
      };
      next();
    });
  });
}

/** Sends every input with `concurrency` in flight; answers in input order. */
export async function sendAll(host: string, port: number, inputs: HostileInput[], concurrency: number): Promise<HostileAnswer[]> {
  const answers: HostileAnswer[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      answers[i] = await sendHostile(host, port, inputs[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/**
 * Bodies built to cost the receiver the most work while staying within the body limit (issue 15: one such
 * body used to block the event loop for seconds and hold hundreds of MB). All carry valid credentials; none
 * can act (bad bodies, or valid alerts for a target that is not configured): answers are 400 or 200. `floor`: the same 1 MiB of JSON
 * in one string the schema never looks into, i.e. receiving and parsing that much and nothing else.
 */
export function worstCaseBodies(o: { token: string; validBody: string; bodyLimitBytes: number }): HostileInput[] {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${o.token}` };
  const unknownTarget = (alert: Record<string, any>, i: number) => ({ ...alert, fingerprint: `w${i}`, labels: { ...alert.labels, ai_dispatcher_target: 'not-configured' } });
  const parsed = JSON.parse(o.validBody) as Record<string, unknown> & { alerts: Array<Record<string, any>> };
  const base = { ...parsed, alerts: parsed.alerts.map(unknownTarget) };
  const room = o.bodyLimitBytes - o.validBody.length - 1024;
  const input = (kind: string, text: string): HostileInput => ({ kind, method: 'POST', path: '/webhook/alertmanager', headers, body: Buffer.from(text) });
  const withAlerts = (alerts: string) => JSON.stringify({ ...base, alerts: '__ALERTS__' }).replace('"__ALERTS__"', alerts);
  const fill = (unit: string, sep = ',') => Array.from({ length: Math.floor(room / (unit.length + sep.length)) }, () => unit).join(sep);
  const alert = base.alerts[0]!;
  // Just under the shape limits (100,000 values: each comma and each opened container counts), so JSON.parse runs.
  const atValueLimit = (unit: string, arrays: number) => `[${Array.from({ length: arrays }, () => `[${Array(1000).fill(unit).join(',')}]`).join(',')}]`;
  // The most alerts the cap allows, each padded with labels up to the limit; the last one is broken.
  const perAlert = Math.floor(room / 1000) - JSON.stringify(alert).length - 64;
  const padded = (i: number) => unknownTarget({ ...alert, labels: { ...alert.labels, pad: 'p'.repeat(Math.max(0, perAlert)) } }, i);
  const cap = Array.from({ length: 1000 }, (_, i) => padded(i));
  const capBroken = cap.map((a, i) => (i === 999 ? { ...a, fingerprint: 7 } : a));
  const wideLabels = Object.fromEntries(Array.from({ length: Math.floor(room / 16) }, (_, i) => [`l${i}`, 'v']));
  return [
    input('floor: 1 MiB in one string', JSON.stringify({ ...base, padding: 'p'.repeat(room) })),
    input('empty alerts filling the limit', withAlerts(`[${fill('{}')}]`)),
    input('numbers as alerts filling the limit', withAlerts(`[${fill('0')}]`)),
    input('1000 padded alerts, the last one broken', JSON.stringify({ ...base, alerts: capBroken })),
    input('1000 padded valid alerts for an unknown target', JSON.stringify({ ...base, alerts: cap })),
    input('one alert with a label map filling the limit', JSON.stringify({ ...base, alerts: [{ ...unknownTarget(alert, 0), labels: { ...alert.labels, ...wideLabels, ai_dispatcher_target: 'not-configured' } }] })),
    input('unknown field: an array filling the limit', JSON.stringify({ ...base, padding: '__P__' }).replace('"__P__"', `[${fill('0')}]`)),
    input('49,000 empty objects in an unknown field (under the shape limits)', JSON.stringify({ ...base, padding: '__P__' }).replace('"__P__"', atValueLimit('{}', 49))),
    input('99,000 short strings in an unknown field (under the shape limits)', JSON.stringify({ ...base, padding: '__P__' }).replace('"__P__"', atValueLimit('"abcdefg"', 99))),
    input('deep nesting in a label map', JSON.stringify({ ...base, commonLabels: '__D__' }).replace('"__D__"', '{"a":'.repeat(Math.floor(room / 6)) + '"x"' + '}'.repeat(Math.floor(room / 6)))),
    input('escapes filling one string', JSON.stringify({ ...base, receiver: '__S__' }).replace('"__S__"', `"${'\\u0000'.repeat(Math.floor(room / 6))}"`)),
  ];
}
