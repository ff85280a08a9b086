/**
 * The intake's results without HTTP: what a notification or a manual request leads to (the routes only map these
 * to status codes; test/receiver/http covers the answers).
 */
import { Registry } from 'prom-client';
import { systemClock } from '../../../receiver/src/clock';
import { parseConfig } from '../../../receiver/src/config/load';
import { AlertIntake } from '../../../receiver/src/intake/alert-intake';
import { submitManual } from '../../../receiver/src/intake/manual-intake';
import { TargetManager } from '../../../receiver/src/lifecycle/manager';
import { silentLogger } from '../../../receiver/src/logger';
import { createMetrics } from '../../../receiver/src/metrics';
import { fixtureBytes, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
import { FakeDocker } from '../../support/fake-docker';
import { TEST_CONFIG_YAML, settled } from '../../support/receiver-app';

function setup(options: { dryRun?: boolean } = {}) {
  const docker = new FakeDocker().add('ollama').add('sqlite-ai').addCompose('ai', 'embeddings');
  const config = parseConfig(TEST_CONFIG_YAML);
  const metrics = createMetrics(new Registry(), { version: 'test' });
  const deps = { config, docker, logger: silentLogger, clock: systemClock, metrics, dryRun: options.dryRun ?? false };
  const manager = new TargetManager(deps);
  let draining = false;
  return {
    docker,
    manager,
    intake: new AlertIntake({ ...deps, manager }),
    manual: { manager, docker, logger: silentLogger, dryRun: deps.dryRun, draining: () => draining },
    drain: () => (draining = true),
  };
}

const start = () => JSON.parse(withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start'));

test('a body that is not a notification is invalid, with the problems', async () => {
  const { intake, docker } = setup();
  const result = await intake.take({ version: '4', alerts: 'no' });
  expect(result).toMatchObject({ outcome: 'invalid', errors: expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]) });
  expect(docker.calls).toEqual([]);
});

test('an unreachable engine: unavailable before anything is queued; a dry run needs no engine', async () => {
  const live = setup();
  live.docker.reachable = false;
  expect(await live.intake.take(start())).toEqual({ outcome: 'unavailable', error: 'docker_unavailable' });
  expect(live.manager.view('ollama').inFlight).toBeNull();

  const dry = setup({ dryRun: true });
  dry.docker.reachable = false;
  expect(await dry.intake.take(start())).toMatchObject({ outcome: 'accepted', notification: { dryRun: true, actions: [{ target: 'ollama', action: 'start', disposition: 'queued' }] } });
});

test('a repeated delivery is a duplicate (no preflight needed); a failed action, even a manual one, makes it act again', async () => {
  const { intake, manager, docker, manual } = setup();
  expect(await intake.take(start())).toMatchObject({ outcome: 'accepted', notification: { duplicates: 0, actions: [{ disposition: 'queued' }] } });
  await settled({ manager } as Parameters<typeof settled>[0]);
  docker.reachable = false;
  expect(await intake.take(start())).toMatchObject({ outcome: 'accepted', notification: { duplicates: 1, actions: [] } });
  docker.reachable = true;

  // An operator's start fails (a member was removed): the alert's next delivery is not a duplicate any more.
  docker.setRunning('ollama', false);
  docker.containers.delete('sqlite-ai');
  const submitted = await submitManual(manual, 'ollama', 'start', 'manual');
  expect(submitted.outcome).toBe('submitted');
  if (submitted.outcome === 'submitted') expect(await submitted.submission.outcome).toMatchObject({ result: 'failed', reason: 'container_missing' });
  expect(await intake.take(start())).toMatchObject({ outcome: 'accepted', notification: { duplicates: 0, actions: [{ disposition: 'queued' }] } });
});

test('manual requests: unknown target, the same preflight, shutting down, submitted with the guards skipped', async () => {
  const { manual, docker, drain } = setup();
  expect(await submitManual(manual, 'nope', 'start', 'manual')).toEqual({ outcome: 'unknown_target' });
  docker.reachable = false;
  expect(await submitManual(manual, 'ollama', 'start', 'wake')).toEqual({ outcome: 'unavailable', error: 'docker_unavailable' });
  docker.reachable = true;
  const submitted = await submitManual(manual, 'ollama', 'start', 'wake');
  expect(submitted).toMatchObject({ outcome: 'submitted', submission: { disposition: 'queued' } });
  drain();
  expect(await submitManual(manual, 'ollama', 'stop', 'manual')).toEqual({ outcome: 'unavailable', error: 'shutting_down' });
});
