/**
 * The warm-up benchmark's own arithmetic (scripts/bench/warmup-bench.ts): what counts as time stopped and as a
 * warm-up ahead of a batch, and the options that cannot give a meaningful day.
 */
import { account, parseOptions } from '../../scripts/bench/warmup-bench';

const s = (seconds: number) => seconds * 1000;

describe('account', () => {
  // Days of 100 s from t0 = 0, batches at 60 s for 8 s.
  const batches = [{ at: s(60), endedAt: s(68) }, { at: s(160), endedAt: s(168) }, { at: s(260), endedAt: s(268) }];

  test('a batch that starts the container itself is no warm-up; a start after the previous batch\'s end is', () => {
    const events = [
      { at: s(61), running: true }, { at: s(90), running: false }, // day 1: woken by the batch, idle stop
      { at: s(130), running: true }, { at: s(190), running: false }, // day 2: warm-up 30 s ahead
      { at: s(262), running: true }, // day 3: woken by the batch again
    ];
    const r = account(events, batches, 0, s(300));
    expect(r.warmupSeconds).toBe(30);
    // Stopped 0-61, 90-130, 190-262.
    expect(r.stoppedSeconds).toBe(61 + 40 + 72);
  });

  test('a container still running from the previous batch is not a warm-up', () => {
    const events = [{ at: s(61), running: true }];
    const r = account(events, batches, 0, s(300));
    expect(r.warmupSeconds).toBe(0);
    expect(r.stoppedSeconds).toBe(61);
  });

  test('events before t0 set the state at t0', () => {
    const r = account([{ at: -s(5), running: true }, { at: s(10), running: false }], [], 0, s(100));
    expect(r.stoppedSeconds).toBe(90);
  });
});

describe('parseOptions', () => {
  test('defaults: 8 days of 90 s, an 8 s load, three variants, the batch at 60 % of the day', () => {
    expect(parseOptions([])).toEqual(expect.objectContaining({
      days: 8, daySeconds: 90, loadMs: 8000, variants: ['reactive', 'warmup', 'warmup+preload'], batchAt: 54, horizonSeconds: 30,
      pair: { complexity: 'high', task_type: 'analysis' },
    }));
  });

  test('refuses a day too short for a batch, an idle stop and a warm-up, an unknown variant, a batch too early', () => {
    expect(() => parseOptions(['--day-seconds', '40'])).toThrow(/a day needs at least 61 s/);
    expect(() => parseOptions(['--variants', 'reactive,magic'])).toThrow(/magic is not one of/);
    expect(() => parseOptions(['--batch-at', '10'])).toThrow(/--batch-at/);
    expect(() => parseOptions(['--days', '-1'])).toThrow(/--days/);
  });
});
