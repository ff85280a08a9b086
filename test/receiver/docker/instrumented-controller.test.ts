import { Registry } from 'prom-client';
import { DockerApiError, type DockerController } from '../../../receiver/src/docker/controller';
import { instrumentDocker } from '../../../receiver/src/docker/instrumented-controller';
import { createMetrics } from '../../../receiver/src/metrics';
import { FakeDocker } from '../../support/fake-docker';

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const data = await registry.getSingleMetric(name)!.get();
  return data.values.find((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))?.value;
}

describe('instrumentDocker', () => {
  test('docker_up follows whether the engine answered; errors are counted by operation', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { version: 't' });
    const fake = new FakeDocker().add('ollama');
    const docker = instrumentDocker(fake, metrics);

    await docker.ping();
    expect(await value(registry, 'ai_dispatcher_docker_up')).toBe(1);

    fake.reachable = false;
    await expect(docker.inspect({ kind: 'container', name: 'ollama' })).rejects.toThrow('ENOENT');
    expect(await value(registry, 'ai_dispatcher_docker_up')).toBe(0);
    expect(await value(registry, 'ai_dispatcher_docker_errors_total', { operation: 'inspect' })).toBe(1);

    fake.reachable = true;
    await expect(docker.start({ kind: 'container', name: 'missing' })).rejects.toThrow('no container matches');
    // The engine answered (404): it is up, and the failed call is counted.
    expect(await value(registry, 'ai_dispatcher_docker_up')).toBe(1);
    expect(await value(registry, 'ai_dispatcher_docker_errors_total', { operation: 'start' })).toBe(1);
  });

  test('an API error (e.g. 403 from a socket proxy) counts as an error with the engine up', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { version: 't' });
    const forbidding: DockerController = {
      ping: async () => undefined,
      inspect: async () => {
        throw new DockerApiError('forbidden', 403);
      },
      start: async () => 'started',
      stop: async () => 'stopped',
    };
    const docker = instrumentDocker(forbidding, metrics);
    await expect(docker.inspect({ kind: 'container', name: 'x' })).rejects.toThrow('forbidden');
    expect(await value(registry, 'ai_dispatcher_docker_up')).toBe(1);
    expect(await value(registry, 'ai_dispatcher_docker_errors_total', { operation: 'inspect' })).toBe(1);
  });
});
