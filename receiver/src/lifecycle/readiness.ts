import type { Clock } from '../clock';
import type { ReadinessConfig } from '../config/types';
import type { ContainerRef } from '../config/types';
import type { ContainerState, DockerController } from '../docker/controller';

/**
 * One look: is the target ready right now? Never throws; an unreachable probe is "not ready".
 * `observed` saves the inspect calls when the caller has just read the members' state.
 */
export async function checkReadyOnce(
  readiness: ReadinessConfig,
  members: ContainerRef[],
  docker: DockerController,
  signal?: AbortSignal,
  observed?: ContainerState[],
): Promise<boolean> {
  try {
    switch (readiness.type) {
      case 'running':
        return (observed ?? (await inspectAll(docker, members))).every((s) => s.running);
      case 'docker_health':
        return (observed ?? (await inspectAll(docker, members))).every(
          (s) => s.running && (s.health === 'healthy' || s.health === 'none'),
        );
      case 'http':
        return await probeHttp(readiness.url, readiness.probeTimeoutSeconds * 1000, signal);
    }
  } catch {
    return false;
  }
}

async function inspectAll(docker: DockerController, members: ContainerRef[]): Promise<ContainerState[]> {
  return Promise.all(members.map((m) => docker.inspect(m)));
}

async function probeHttp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
  await res.body?.cancel();
  return res.status >= 200 && res.status < 300;
}

/** The values of ai_dispatcher_readiness_wait_seconds{result}. */
export const READINESS_RESULTS = ['ready', 'timeout'] as const;
export type ReadinessResult = (typeof READINESS_RESULTS)[number];

/** The first pause between probes; each following pause doubles, up to the configured interval. */
export const FIRST_PROBE_DELAY_MS = 50;

/**
 * Pause after probe number `probe` (0 = the first probe): 50 ms, 100 ms, 200 ms, ... capped at `intervalMs`.
 * A service that gets ready a moment after the first probe is seen within tens of milliseconds instead of a whole
 * interval; one that takes long is still probed only once per interval.
 */
export function probeDelayMs(probe: number, intervalMs: number): number {
  return Math.min(FIRST_PROBE_DELAY_MS * 2 ** Math.min(probe, 30), intervalMs);
}

/**
 * Polls until ready or until the configured timeout (a probe at once, then after probeDelayMs);
 * rejects only when the signal aborts (shutdown).
 */
export async function waitUntilReady(
  readiness: ReadinessConfig,
  members: ContainerRef[],
  docker: DockerController,
  clock: Clock,
  signal: AbortSignal,
): Promise<ReadinessResult> {
  if (readiness.type === 'running') return 'ready';
  const deadline = clock.now() + readiness.timeoutSeconds * 1000;
  for (let probe = 0; ; probe++) {
    if (await checkReadyOnce(readiness, members, docker, signal)) return 'ready';
    signal.throwIfAborted();
    const left = deadline - clock.now();
    if (left <= 0) return 'timeout';
    await clock.sleep(Math.min(probeDelayMs(probe, readiness.intervalSeconds * 1000), left), signal);
  }
}
