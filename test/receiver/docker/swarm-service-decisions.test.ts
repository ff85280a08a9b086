/**
 * scaleService's decisions on states that are hard to produce on demand on a real swarm (the live test
 * swarm-service.test.ts covers the engine itself): a fake SwarmApi that plays the orchestrator's part.
 */
import { scaleService, type ServiceInfo, type SwarmApi, type TaskInfo } from '../../../receiver/src/docker/swarm-service';
import { ManualClock } from '../../support/manual-clock';

const running = (id: string, desired = 'running'): TaskInfo => ({ ID: id, DesiredState: desired, Status: { State: 'running' } });

/** A service whose tasks follow a script: each listTasks call takes the next state (the last one repeats). */
function fakeService(replicas: number, script: TaskInfo[][]) {
  let version = 7;
  let calls = 0;
  const updates: number[] = [];
  const listedAtUpdate: number[] = [];
  const spec = { Name: 'svc', Labels: { keep: 'me' }, Mode: { Replicated: { Replicas: replicas } } };
  const api: SwarmApi = {
    async inspectService(name) {
      return name === 'svc' ? ({ ID: 'id1', Version: { Index: version }, Spec: structuredClone(spec) } as ServiceInfo) : undefined;
    },
    async updateService(_id, v, newSpec) {
      if (v !== version) throw Object.assign(new Error('update out of sequence'), { statusCode: 500 });
      expect(newSpec.Labels).toEqual({ keep: 'me' });
      spec.Mode.Replicated.Replicas = newSpec.Mode!.Replicated!.Replicas!;
      version += 1;
      updates.push(spec.Mode.Replicated.Replicas);
      listedAtUpdate.push(calls);
    },
    async listTasks() {
      const tasks = script[Math.min(calls, script.length - 1)]!;
      calls += 1;
      return tasks;
    },
  };
  return { api, updates, listedAtUpdate, listCalls: () => calls };
}

const OPTIONS = { waitMs: 2000, pollMs: 1 };

it('ensure-at-least leaves a service scaled higher by hand as it is, and waits only for the count it asked for', async () => {
  const svc = fakeService(3, [[running('a'), { ID: 'b', DesiredState: 'running', Status: { State: 'pending' } }]]);
  const result = await scaleService(svc.api, 'svc', 1, { ...OPTIONS, keepHigher: true });
  expect(result).toMatchObject({ changed: false, replicas: 3 });
  expect(svc.updates).toEqual([]);
});

it('right after a scale-down by someone else, waits for the task Swarm has not marked yet before scaling up', async () => {
  // Spec says 0, but the orchestrator still shows the old task as wanted; then marks it; then it is gone.
  const svc = fakeService(0, [
    [running('old')],
    [running('old')],
    [running('old', 'remove')],
    [{ ID: 'old', DesiredState: 'remove', Status: { State: 'shutdown' } }],
    [{ ID: 'old', DesiredState: 'remove', Status: { State: 'shutdown' } }],
    [{ ID: 'old', DesiredState: 'remove', Status: { State: 'shutdown' } }, running('new')],
  ]);
  const result = await scaleService(svc.api, 'svc', 1, OPTIONS);
  expect(result).toMatchObject({ changed: true, replicas: 1, runningTasks: 1 });
  expect(svc.updates).toEqual([1]);
  // The update went out only after the old task had reached a final state (the 4th look or later).
  expect(svc.listedAtUpdate[0]).toBeGreaterThanOrEqual(4);
});

it('when another caller scaled up between our inspect and our task list, finds the service up and changes nothing', async () => {
  // Seen on a real swarm with two parallel callers: the spec we read says 0, the task list already
  // holds the other caller's new task. Judged against the stale spec it looks like one too many.
  const svc = fakeService(0, [[running('theirs')]]);
  const inspect = svc.api.inspectService;
  let inspections = 0;
  const raced: SwarmApi = {
    ...svc.api,
    async inspectService(name) {
      const info = await inspect(name);
      inspections += 1;
      if (info && inspections > 1) info.Spec.Mode!.Replicated!.Replicas = 1; // the other caller's update
      return info;
    },
  };
  const result = await scaleService(raced, 'svc', 1, OPTIONS);
  expect(result).toMatchObject({ changed: false, previousReplicas: 1, replicas: 1, runningTasks: 1 });
  expect(svc.updates).toEqual([]);
});

it('gives up waiting for old tasks within the bound and does not scale up', async () => {
  const svc = fakeService(0, [[running('old', 'shutdown')]]);
  await expect(scaleService(svc.api, 'svc', 1, { waitMs: 50, pollMs: 5 })).rejects.toThrow(
    /tasks being shut down still there after 0.05 s; not scaled up/,
  );
  expect(svc.updates).toEqual([]);
});

it('a failure among tasks that existed before the update is old news; a new one fails the start and scales back', async () => {
  const oldFailure: TaskInfo = { ID: 'old', DesiredState: 'shutdown', Status: { State: 'rejected', Err: 'earlier trouble' } };
  const svc = fakeService(0, [
    [oldFailure],
    [oldFailure],
    [oldFailure, { ID: 'new', DesiredState: 'running', Status: { State: 'failed', Err: 'task: non-zero exit (1)' } }],
  ]);
  await expect(scaleService(svc.api, 'svc', 1, OPTIONS)).rejects.toThrow(
    'swarm service "svc": task new failed: task: non-zero exit (1); scaled back to 0',
  );
  expect(svc.updates).toEqual([1, 0]);
});

it('a start that does not get its tasks running within the bound is scaled back and says how far it got', async () => {
  const svc = fakeService(0, [[], [{ ID: 'n', DesiredState: 'running', Status: { State: 'pending' } }]]);
  await expect(scaleService(svc.api, 'svc', 1, { waitMs: 50, pollMs: 5 })).rejects.toThrow(
    'swarm service "svc": 0 of 1 task(s) running after 0.05 s; scaled back to 0',
  );
  expect(svc.updates).toEqual([1, 0]);
});

it('waits on the clock it is given: a minute-long bound runs out on a manual clock without real waiting', async () => {
  const clock = new ManualClock();
  const began = clock.now();
  const svc = fakeService(0, [[], [{ ID: 'n', DesiredState: 'running', Status: { State: 'pending' } }]]);
  await expect(scaleService(svc.api, 'svc', 1, { waitMs: 60_000, pollMs: 1000, clock })).rejects.toThrow(
    'swarm service "svc": 0 of 1 task(s) running after 60 s; scaled back to 0',
  );
  expect(svc.updates).toEqual([1, 0]);
  // Polled once a (manual) second until the bound: about 60 looks, no more.
  expect(clock.now() - began).toBe(60_000);
  expect(svc.listCalls()).toBeGreaterThanOrEqual(60);
  expect(svc.listCalls()).toBeLessThanOrEqual(63);
});
