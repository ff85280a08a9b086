import { DockerUnavailableError, type DockerController } from '../docker/controller';

/**
 * Before anything is queued: can the engine be reached? Unreachable means answer 503 (a retry can help) instead of
 * queueing work that would fail. An engine that answers with an error (e.g. a socket proxy that forbids /_ping)
 * passes: the actions themselves will tell. A dry run needs no engine.
 */
export async function dockerPreflight(docker: DockerController, dryRun: boolean): Promise<'ok' | 'docker_unavailable'> {
  if (dryRun) return 'ok';
  try {
    await docker.ping();
  } catch (err) {
    if (err instanceof DockerUnavailableError) return 'docker_unavailable';
  }
  return 'ok';
}
