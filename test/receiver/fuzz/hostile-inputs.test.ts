/**
 * 500 generated hostile inputs (scripts/bench/hostile-inputs.ts, fixed seed) against the built receiver on a
 * private dockerd: only 4xx (or no answer to a body the client abandoned), no action, no secret in the logs,
 * and the receiver still acts on a valid notification afterwards. The 10,000-input run is
 * `npx tsx scripts/bench/receiver-fuzz.ts` (results in scripts/bench/README.md).
 */
import { runFuzzSession, type FuzzReport } from '../../../scripts/bench/receiver-fuzz';

jest.setTimeout(120_000);

let report: FuzzReport;

beforeAll(async () => {
  report = await runFuzzSession({ count: 500, seed: 20261126, concurrency: 16 });
});

it('answers every hostile input with a 4xx, or not at all when the client abandoned its body', () => {
  expect(report.wrong.map((w) => `${w.input.kind} -> ${w.status} ${w.error ?? ''}`)).toEqual([]);
  // Every kind was tried and met its specific refusal.
  const statuses = (kind: string) => [...(report.byKind.get(kind)?.keys() ?? [])].sort();
  expect(statuses('bad credentials')).toContain(401);
  expect(statuses('malformed')).toEqual([400]);
  expect(statuses('wrong type')).toEqual([400]);
  expect(statuses('missing')).toEqual([400]);
  expect(statuses('deep nesting')).toContain(400);
  expect(statuses('huge string over the limit')).toEqual([413]);
  expect(statuses('gzip bomb')).toEqual([413]);
  expect(statuses('wrong content-type')).toEqual([415]);
  expect(statuses('oversized headers')).toEqual([431]);
  expect(statuses('slow body (completes, invalid)')).toEqual([400]);
  expect(statuses('slow body (abandoned)')).toEqual([0]);
  expect(report.byKind.size).toBeGreaterThanOrEqual(19);
});

it('does nothing: no action counted, no start or stop in Docker, the container still stopped', () => {
  expect(report.actionsCounted).toBe(0);
  expect(report.dockerEvents).toEqual({ start: 0, die: 0, kill: 0 });
  expect(report.stillStopped).toBe(true);
  expect(report.webhookCounters.accepted).toBe(0);
  expect(report.webhookCounters.error).toBe(0);
  expect(report.webhookCounters.unauthorized).toBeGreaterThan(0);
});

it('keeps the token out of every log line and keeps serving', () => {
  expect(report.logLines).toBeGreaterThan(0);
  expect(report.tokenInOutput).toBe(false);
  expect(report.alive).toBe(true);
  expect(report.validAfter).toBe(202);
});
