import type { ReceiverMetrics } from '../metrics';
import type { ContainerRef } from '../config/types';
import { DockerUnavailableError, type DockerController } from './controller';

/** The label values of ai_dispatcher_docker_errors_total{operation}: one per DockerController method. */
export const DOCKER_OPERATIONS = ['ping', 'inspect', 'start', 'stop'] as const satisfies ReadonlyArray<keyof DockerController>;
type DockerOperation = (typeof DOCKER_OPERATIONS)[number];

/**
 * Wraps a DockerController so that every call updates ai_dispatcher_docker_up (did the engine answer?)
 * and ai_dispatcher_docker_errors_total{operation}.
 */
export function instrumentDocker(inner: DockerController, metrics: ReceiverMetrics): DockerController {
  const call = async <T>(operation: DockerOperation, run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      metrics.dockerUp.set(1);
      return result;
    } catch (err) {
      metrics.dockerErrors.inc({ operation });
      metrics.dockerUp.set(err instanceof DockerUnavailableError ? 0 : 1);
      throw err;
    }
  };
  return {
    ping: () => call('ping', () => inner.ping()),
    inspect: (ref: ContainerRef) => call('inspect', () => inner.inspect(ref)),
    start: (ref: ContainerRef) => call('start', () => inner.start(ref)),
    stop: (ref: ContainerRef, timeoutSeconds: number) => call('stop', () => inner.stop(ref, timeoutSeconds)),
  };
}
