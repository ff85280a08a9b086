import { decideTiming, type TransitionHistory } from '../../../receiver/src/lifecycle/timing';

const now = 1_000_000_000;
const s = (seconds: number) => seconds * 1000;
const guards = { cooldownSeconds: 60, minRunningSeconds: 600 };

describe('decideTiming', () => {
  test.each<[string, 'start' | 'stop', TransitionHistory, ReturnType<typeof decideTiming>]>([
    ['start with no history', 'start', {}, { kind: 'go' }],
    ['start after the cooldown', 'start', { lastTransitionAt: now - s(61) }, { kind: 'go' }],
    ['start 10 s into a 60 s cooldown waits 50 s', 'start', { lastTransitionAt: now - s(10) }, { kind: 'wait', ms: s(50) }],
    ['start ignores the minimum running time', 'start', { runningSince: now - s(1) }, { kind: 'go' }],
    ['stop with no history', 'stop', {}, { kind: 'go' }],
    [
      'stop 5 min after the start: minimum running time not reached',
      'stop',
      { lastTransitionAt: now - s(300), runningSince: now - s(300) },
      { kind: 'suppress', reason: 'min_running_time', remainingMs: s(300) },
    ],
    [
      'stop of a target running 1 h, 30 s after a transition: cooldown',
      'stop',
      { lastTransitionAt: now - s(30), runningSince: now - s(3600) },
      { kind: 'suppress', reason: 'cooldown', remainingMs: s(30) },
    ],
    [
      'stop when the cooldown ends after the minimum running time: the cooldown, with the time until the stop may happen',
      'stop',
      { lastTransitionAt: now - s(10), runningSince: now - s(595) },
      { kind: 'suppress', reason: 'cooldown', remainingMs: s(50) },
    ],
    ['stop of a target running 1 h, long after the last transition', 'stop', { lastTransitionAt: now - s(3600), runningSince: now - s(3600) }, { kind: 'go' }],
    ['stop exactly at the end of the minimum running time', 'stop', { runningSince: now - s(600) }, { kind: 'go' }],
  ])('%s', (_name, action, history, expected) => {
    expect(decideTiming(action, history, guards, now)).toEqual(expected);
  });

  test('zero cooldown and zero minimum running time never hold anything back', () => {
    const history = { lastTransitionAt: now, runningSince: now };
    expect(decideTiming('start', history, { cooldownSeconds: 0, minRunningSeconds: 0 }, now)).toEqual({ kind: 'go' });
    expect(decideTiming('stop', history, { cooldownSeconds: 0, minRunningSeconds: 0 }, now)).toEqual({ kind: 'go' });
  });
});
