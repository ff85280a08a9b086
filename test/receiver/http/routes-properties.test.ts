import fc from 'fast-check';
import request from 'supertest';
import { TEST_TOKEN, buildTestReceiver, settled } from '../../support/receiver-app';

const segment = fc.oneof(
  fc.constantFrom('api', 'v1', 'targets', 'ollama', 'embeddings', 'start', 'stop', 'wake', 'webhook', 'alertmanager', 'metrics', '..', '%2e%2e', '%E0%A4%A', '%00', '%'),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);

describe('property: any method and path, with or without credentials, never a 5xx', () => {
  test('random requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('get', 'post', 'put', 'delete', 'patch') as fc.Arbitrary<'get' | 'post' | 'put' | 'delete' | 'patch'>,
        fc.oneof(
          fc.array(segment, { minLength: 1, maxLength: 6 }),
          // Real routes with a random tail, so that the handlers themselves are reached.
          fc.tuple(fc.constantFrom(['api', 'v1', 'targets'], ['api', 'v1', 'targets', 'ollama'], ['webhook', 'alertmanager']), fc.array(segment, { maxLength: 2 })).map(
            ([head, tail]) => [...head, ...tail],
          ),
        ),
        fc.boolean(),
        fc.constantFrom('', '?timeout_seconds=0.05', '?timeout_seconds=-1', '?timeout_seconds=abc', '?a[b]=c'),
        async (method, segments, withAuth, query) => {
          const r = buildTestReceiver({ yaml: 'wake_timeout_seconds: 1\ntargets: {ollama: {members: [{container: ollama}], readiness: {type: running}, cooldown_seconds: 0}}' });
          const req = request(r.app)[method](`/${segments.join('/')}${query}`);
          if (withAuth) req.set('Authorization', `Bearer ${TEST_TOKEN}`);
          const res = await req;
          await settled(r);
          expect(res.status).toBeLessThan(500);
          if (!withAuth) expect(r.docker.mutations()).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
