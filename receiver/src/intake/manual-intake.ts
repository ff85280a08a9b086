import type { DockerController } from '../docker/controller';
import type { TargetManager } from '../lifecycle/manager';
import { ShuttingDownError, type Submission } from '../lifecycle/submission';
import type { LifecycleAction } from '../lifecycle/types';
import type { Logger } from '../logger';
import { dockerPreflight } from './preflight';

export interface ManualIntakeDeps {
  manager: TargetManager;
  docker: DockerController;
  logger: Logger;
  dryRun: boolean;
  draining(): boolean;
}

/** What became of an operator's start/stop or a wake; the route maps it to a status code. */
export type ManualResult =
  | { outcome: 'unknown_target' }
  | { outcome: 'unavailable'; error: 'shutting_down' | 'docker_unavailable' }
  | { outcome: 'submitted'; submission: Submission };

/**
 * Manual start/stop and wake: only configured names, not while shutting down, the same Docker preflight as the
 * webhook, and the action skips the cooldown and the minimum running time.
 */
export async function submitManual(
  deps: ManualIntakeDeps,
  name: string,
  action: LifecycleAction,
  origin: 'manual' | 'wake',
): Promise<ManualResult> {
  if (!deps.manager.has(name)) return { outcome: 'unknown_target' };
  if (deps.draining()) return { outcome: 'unavailable', error: 'shutting_down' };
  if ((await dockerPreflight(deps.docker, deps.dryRun)) === 'docker_unavailable') return { outcome: 'unavailable', error: 'docker_unavailable' };
  try {
    const submission = deps.manager.submit(name, action, { origin, force: true });
    deps.logger.info('manual request', { target: name, action, origin, disposition: submission.disposition });
    return { outcome: 'submitted', submission };
  } catch (err) {
    if (!(err instanceof ShuttingDownError)) throw err;
    return { outcome: 'unavailable', error: 'shutting_down' };
  }
}
