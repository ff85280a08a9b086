import fc from 'fast-check';
import request from 'supertest';
import { checkPayload } from '../../../receiver/src/webhook/payload';
import { fixtureBytes, fixtureNames, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
import { TEST_TOKEN, buildTestReceiver, settled } from '../../support/receiver-app';

const PATH = '/webhook/alertmanager';
const RUNS = 150;
const CONFIGURED_REFS = new Set(['ollama', 'sqlite-ai', 'ai/embeddings']);
const FIXTURES = fixtureNames().map((n) => JSON.parse(withContractLabels(fixtureBytes(n), n.startsWith('Pending') ? 'start' : 'stop')));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Posts the body, waits for any action it started, and checks the invariants that hold for every input. */
async function postAndCheck(body: Buffer | string, headers: Record<string, string> = {}) {
  const r = buildTestReceiver();
  const res = await request(r.app)
    .post(PATH)
    .set({ Authorization: `Bearer ${TEST_TOKEN}`, 'Content-Type': 'application/json', ...headers })
    .send(body);
  await settled(r);
  expect(res.status).toBeLessThan(500);
  expect(r.logLines.join('')).not.toContain(TEST_TOKEN);
  if (res.status >= 400) {
    expect(r.docker.calls).toEqual([]);
  } else {
    for (const call of r.docker.mutations()) expect(CONFIGURED_REFS.has(call.ref)).toBe(true);
  }
  return { res, r };
}

/** A random edit at a random place of a JSON document: drop a key, replace a value, or add a field. */
const mutation = fc.record({
  pick: fc.nat(),
  kind: fc.constantFrom('delete', 'replace', 'add'),
  value: fc.jsonValue({ maxDepth: 3 }),
  key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('ai_dispatcher_action', 'ai_dispatcher_target', 'status', 'version', 'alerts', '__proto__', 'constructor')),
});

function applyMutation(doc: Json, m: { pick: number; kind: string; value: unknown; key: string }): Json {
  const containers: Array<Json[] | { [k: string]: Json }> = [];
  const walk = (node: Json) => {
    if (node !== null && typeof node === 'object') {
      containers.push(node);
      for (const child of Object.values(node)) walk(child);
    }
  };
  walk(doc);
  const target = containers[m.pick % containers.length];
  const keys = Object.keys(target);
  const key = keys.length > 0 ? keys[m.pick % keys.length] : m.key;
  if (m.kind === 'add' || keys.length === 0) {
    Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  } else if (m.kind === 'delete') {
    if (Array.isArray(target)) target.splice(Number(key), 1);
    else delete target[key];
  } else {
    (target as Record<string, unknown>)[key] = m.value;
  }
  return doc;
}

describe('property: whatever arrives, never a 5xx or a crash, never an action for an invalid body', () => {
  test('random JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const { res } = await postAndCheck(JSON.stringify(value));
        if (!checkPayload(value).ok) expect(res.status).toBe(400);
      }),
      { numRuns: RUNS },
    );
  });

  test('captured payloads with random mutations', async () => {
    const seen = { accepted: 0, rejected: 0, acted: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (fixture, mutations) => {
        const doc = mutations.reduce<Json>((d, m) => applyMutation(d, m), structuredClone(fixture));
        const text = JSON.stringify(doc);
        const { res, r } = await postAndCheck(text);
        const valid = checkPayload(JSON.parse(text)).ok;
        expect(res.status === 200 || res.status === 202).toBe(valid);
        if (!valid) expect(res.body.errors.length).toBeGreaterThan(0);
        seen[valid ? 'accepted' : 'rejected'] += 1;
        if (r.docker.mutations().length > 0) seen.acted += 1;
      }),
      { numRuns: RUNS },
    );
    // The generator must exercise both sides, and valid mutants must still drive real actions.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
    expect(seen.acted).toBeGreaterThan(0);
  });

  test('random bytes, truncated and corrupted captures', async () => {
    const capture = withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
          fc.nat({ max: capture.length - 2 }).map((n) => capture.slice(0, n)),
          fc.tuple(fc.nat({ max: capture.length - 1 }), fc.string({ minLength: 1, maxLength: 3 })).map(
            ([at, junk]) => capture.slice(0, at) + junk + capture.slice(at + 1),
          ),
        ),
        async (body) => {
          await postAndCheck(body);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('random credentials and content types never act', async () => {
    const capture = withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start');
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 60 }).filter((s) => /^[\x21-\x7e ]*$/.test(s) && !s.includes(TEST_TOKEN)),
        fc.constantFrom('application/json', 'text/plain', 'application/xml', 'application/json; charset=latin1', 'multipart/form-data', '*/*'),
        async (authorization, contentType) => {
          const { res } = await postAndCheck(capture, { Authorization: authorization, 'Content-Type': contentType });
          expect(res.status).toBe(401);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
