import type { ReadinessConfig } from '../../../receiver/src/config/types';
import { probeDelayMs, waitUntilReady } from '../../../receiver/src/lifecycle/readiness';
import { FakeDocker } from '../../support/fake-docker';
import { ManualClock } from '../../support/manual-clock';

const OLLAMA = [{ kind: 'container', name: 'ollama' }] as const;

/**
 * A docker_health target that turns healthy at `healthyAt` ms after the wait began (never when undefined);
 * returns the result and the times (ms since the wait began) of every probe.
 */
async function wait(readiness: ReadinessConfig, healthyAt?: number) {
  const clock = new ManualClock();
  const begin = clock.now();
  const docker = new FakeDocker().add('ollama', { running: true, health: 'starting' });
  const probes: number[] = [];
  const inspect = docker.inspect.bind(docker);
  docker.inspect = async (ref) => {
    probes.push(clock.now() - begin);
    if (healthyAt !== undefined && clock.now() - begin >= healthyAt) docker.containers.get('ollama')!.health = 'healthy';
    return inspect(ref);
  };
  const result = await waitUntilReady(readiness, [...OLLAMA], docker, clock, new AbortController().signal);
  return { result, probes, elapsed: clock.now() - begin };
}

const health = (intervalSeconds: number, timeoutSeconds = 60): ReadinessConfig => ({ type: 'docker_health', timeoutSeconds, intervalSeconds });

describe('readiness polling schedule', () => {
  test('pauses start at 50 ms and double up to the configured interval, then stay there', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => probeDelayMs(n, 500))).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => probeDelayMs(n, 2000))).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000]);
    // An interval below 50 ms is used as it is; a very long wait does not overflow.
    expect([0, 1, 5].map((n) => probeDelayMs(n, 20))).toEqual([20, 20, 20]);
    expect(probeDelayMs(10_000, 500)).toBe(500);
  });

  test('a target ready 60 ms after a missed first probe is seen at 150 ms, not after a whole 500 ms interval', async () => {
    const { result, probes } = await wait(health(0.5), 60);
    expect(result).toBe('ready');
    expect(probes).toEqual([0, 50, 150]);
  });

  test('a slow target is probed at 0, 50, 150, 350, 750 ms, then once per interval', async () => {
    const { result, probes } = await wait(health(0.5), 2000);
    expect(result).toBe('ready');
    expect(probes).toEqual([0, 50, 150, 350, 750, 1250, 1750, 2250]);
  });

  test('the timeout still bounds the wait: the last pause is cut to the deadline, then one last probe', async () => {
    const { result, probes, elapsed } = await wait(health(0.5, 1));
    expect(result).toBe('timeout');
    expect(probes).toEqual([0, 50, 150, 350, 750, 1000]);
    expect(elapsed).toBe(1000);
  });

  test('an interval below the first pause is the pause from the start', async () => {
    const { probes } = await wait(health(0.02), 70);
    expect(probes).toEqual([0, 20, 40, 60, 80]);
  });

  test('readiness "running" does not poll at all', async () => {
    const { result, probes } = await wait({ type: 'running' });
    expect(result).toBe('ready');
    expect(probes).toEqual([]);
  });
});
