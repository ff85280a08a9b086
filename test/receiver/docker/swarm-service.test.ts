/**
 * scaleService on a real single-node swarm (a private dockerd in swarm mode, services of the stand-in
 * image on the host network). Checked the way a user would: the service's spec and tasks, Docker's own
 * container events, and whether the stand-in answers on its port.
 */
import {
  ServiceNotFoundError,
  ServiceTaskFailedError,
  dockerodeSwarmApi,
  readService,
  scaleService,
  type SwarmApi,
} from '../../../receiver/src/docker/swarm-service';
import { ContainerNotFoundError, DockerApiError } from '../../../receiver/src/docker/controller';
import { createDockerodeController } from '../../../receiver/src/docker/dockerode-controller';
import { buildStandInImage, standInAnswers } from '../../../scripts/harness/docker-engine';
import { eventually } from '../../../scripts/harness/eventually';
import { freePort } from '../../../scripts/harness/free-port';
import { serviceEvents } from '../../../scripts/harness/docker-events';
import {
  createStandInService,
  liveTasks,
  serviceReplicas,
  startSwarmEngine,
  type SwarmEngine,
} from '../../../scripts/harness/swarm';

jest.setTimeout(60_000);

let swarm: SwarmEngine;
let api: SwarmApi;
const WAIT = { waitMs: 20_000, pollMs: 50 };

beforeAll(async () => {
  swarm = await startSwarmEngine({ init: false });
  api = dockerodeSwarmApi(swarm.engine.docker);
  await buildStandInImage(swarm.engine);
});

afterAll(async () => {
  await swarm?.stop();
});

describe('on an engine that is not in swarm mode', () => {
  it('says so', async () => {
    await expect(scaleService(api, 'anything', 1, WAIT)).rejects.toThrow(/not a swarm manager/);
  });
});

describe('on a single-node swarm', () => {
  beforeAll(async () => {
    await swarm.init();
  });

  it('scales 0 -> 1 and resolves once the task runs, then 1 -> 0 and resolves once no task is left', async () => {
    const port = await freePort();
    await createStandInService(swarm.engine, { name: 'scale-me', port, replicas: 0 });
    expect(await readService(api, 'scale-me')).toMatchObject({ desiredReplicas: 0, runningTasks: 0 });

    const up = await scaleService(api, 'scale-me', 1, WAIT);
    expect(up).toMatchObject({ changed: true, previousReplicas: 0, replicas: 1, runningTasks: 1 });
    const tasks = await liveTasks(swarm.engine, 'scale-me');
    expect(tasks.map((t) => t.Status.State)).toEqual(['running']);
    expect(await standInAnswers(port)).toBe(true);
    const status = await readService(api, 'scale-me');
    expect(status).toMatchObject({ desiredReplicas: 1, runningTasks: 1 });
    expect(Date.now() - (status?.startedAt?.getTime() ?? 0)).toBeLessThan(20_000);

    const down = await scaleService(api, 'scale-me', 0, WAIT);
    expect(down).toMatchObject({ changed: true, previousReplicas: 1, replicas: 0, runningTasks: 0 });
    expect(await liveTasks(swarm.engine, 'scale-me')).toEqual([]);
    expect(await standInAnswers(port)).toBe(false);
    expect(await serviceReplicas(swarm.engine, 'scale-me')).toMatchObject({ replicas: 0 });
  });

  it('is idempotent: the same count again updates nothing, and parallel callers end with one task', async () => {
    const port = await freePort();
    await createStandInService(swarm.engine, { name: 'twice', port, replicas: 0 });
    const [a, b] = await Promise.all([scaleService(api, 'twice', 1, WAIT), scaleService(api, 'twice', 1, WAIT)]);
    // One of them updated the spec; the other found it done (or lost the race and found it done on re-inspect).
    expect([a.changed, b.changed].sort()).toEqual([false, true]);
    const before = await serviceReplicas(swarm.engine, 'twice');
    const [task] = await liveTasks(swarm.engine, 'twice');

    expect(await scaleService(api, 'twice', 1, WAIT)).toMatchObject({ changed: false, replicas: 1, runningTasks: 1 });
    expect(await serviceReplicas(swarm.engine, 'twice')).toEqual(before);
    expect((await liveTasks(swarm.engine, 'twice')).map((t) => t.ID)).toEqual([task!.ID]);

    // "At least": a service scaled higher by hand is left as it is.
    expect(await scaleService(api, 'twice', 1, { ...WAIT, keepHigher: true })).toMatchObject({ changed: false });

    await scaleService(api, 'twice', 0, WAIT);
    const stopped = await serviceReplicas(swarm.engine, 'twice');
    expect(await scaleService(api, 'twice', 0, WAIT)).toMatchObject({ changed: false, replicas: 0, runningTasks: 0 });
    expect(await serviceReplicas(swarm.engine, 'twice')).toEqual(stopped);
  });

  it('retries with a fresh inspect when another client updated the service in between ("update out of sequence")', async () => {
    const port = await freePort();
    await createStandInService(swarm.engine, { name: 'contended', port, replicas: 0 });
    const docker = swarm.engine.docker;
    const answers: string[] = [];
    let interfere = true;
    // Between our inspect and our update, somebody else changes the service (adds a label): our
    // Version.Index is stale by the time the engine sees our update.
    const contended: SwarmApi = {
      ...api,
      async updateService(id, version, spec) {
        if (interfere) {
          interfere = false;
          await updateByHand('contended', (spec) => ({ ...spec, Labels: { ...spec.Labels, 'changed.by': 'someone-else' } }));
        }
        try {
          await api.updateService(id, version, spec);
          answers.push('ok');
        } catch (error) {
          answers.push(`HTTP ${(error as { statusCode?: number }).statusCode}: ${(error as Error).message}`);
          throw error;
        }
      },
    };

    expect(await scaleService(contended, 'contended', 1, WAIT)).toMatchObject({ changed: true, replicas: 1, runningTasks: 1 });
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^HTTP 500: .*update out of sequence/);
    expect(answers[1]).toBe('ok');
    // The retry re-read the whole spec: the other client's change survived ours.
    const info = await docker.getService('contended').inspect();
    expect(info.Spec.Labels).toEqual({ 'changed.by': 'someone-else' });
    expect(info.Spec.Mode.Replicated.Replicas).toBe(1);
    await scaleService(api, 'contended', 0, WAIT);
  });

  it('gives up after a bounded number of out-of-sequence answers, with an error that says why', async () => {
    const port = await freePort();
    await createStandInService(swarm.engine, { name: 'busy', port, replicas: 0 });
    const docker = swarm.engine.docker;
    let updates = 0;
    const alwaysStale: SwarmApi = {
      ...api,
      async updateService(id, version, spec) {
        updates += 1;
        await api.updateService(id, version - 1, spec);
      },
    };
    await expect(scaleService(alwaysStale, 'busy', 1, { ...WAIT, maxUpdateAttempts: 3 })).rejects.toThrow(
      /update out of sequence 3 times in a row/,
    );
    expect(updates).toBe(3);
    expect((await docker.getService('busy').inspect()).Spec.Mode.Replicated.Replicas).toBe(0);
  });

  it('fails fast when the tasks are rejected (image missing), reports the task error, and scales back', async () => {
    const port = await freePort();
    await createStandInService(swarm.engine, { name: 'no-image', port, replicas: 0, image: 'ai-dispatcher/not-here:missing' });
    const began = Date.now();
    const error = await scaleService(api, 'no-image', 1, WAIT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceTaskFailedError);
    expect((error as Error).message).toMatch(/swarm service "no-image": task \w+ rejected: .*No such image: ai-dispatcher\/not-here:missing.*; scaled back to 0/);
    // Well before the 20 s wait bound: Swarm would retry forever, we do not wait for it.
    expect(Date.now() - began).toBeLessThan(WAIT.waitMs / 2);
    expect(await serviceReplicas(swarm.engine, 'no-image')).toMatchObject({ replicas: 0 });
  });

  it('never runs an old and a new task side by side: scaling up waits until tasks being stopped are gone', async () => {
    const port = await freePort();
    // Its tasks take 1.5 s to go away after a stop (the stop signal is ignored until the grace period ends).
    await createStandInService(swarm.engine, { name: 'slow-stop', port, replicas: 0, slowStopSeconds: 1.5 });
    const setReplicasByHand = (replicas: number) =>
      updateByHand('slow-stop', (spec) => ({ ...spec, Mode: { Replicated: { Replicas: replicas } } }));
    /** When two of its task containers ran at once, from Docker's own start/die events since `since`. */
    const overlaps = async (since: number) => {
      const running = new Set<string>();
      const spans: Array<{ from: number; to: number }> = [];
      let from: number | undefined;
      for (const event of await serviceEvents(swarm.engine, 'slow-stop', since)) {
        if (event.action === 'start') running.add(event.container);
        else running.delete(event.container);
        if (running.size > 1 && from === undefined) from = event.atMs;
        if (running.size <= 1 && from !== undefined) {
          spans.push({ from, to: event.atMs });
          from = undefined;
        }
      }
      if (from !== undefined) spans.push({ from, to: Date.now() });
      return spans;
    };

    const since = Date.now();
    await scaleService(api, 'slow-stop', 1, WAIT);

    // What plain Swarm does (the control): 1 -> 0, and -> 1 again while the old task stops, starts a new
    // task beside the old one (here the new one cannot even bind the port the old one holds, and fails
    // until the old one is gone).
    await setReplicasByHand(0);
    await eventually('a slow-stop task told to stop', async () => (await liveTasks(swarm.engine, 'slow-stop')).some((t) => t.DesiredState !== 'running'));
    await setReplicasByHand(1);
    await eventually('one slow-stop task running again', async () => {
      const tasks = await liveTasks(swarm.engine, 'slow-stop');
      return tasks.length === 1 && tasks[0]!.Status.State === 'running' && tasks[0]!.DesiredState === 'running';
    });
    const control = await overlaps(since);
    expect(control.length).toBeGreaterThanOrEqual(1);

    // Ours: somebody scaled it to 0 a moment ago (its task is still stopping); scaling up waits for it.
    const ours = Date.now();
    await setReplicasByHand(0);
    const up = await scaleService(api, 'slow-stop', 1, WAIT);
    expect(up).toMatchObject({ changed: true, replicas: 1, runningTasks: 1 });
    expect((await serviceEvents(swarm.engine, 'slow-stop', ours)).map((e) => e.action)).toEqual(['die', 'start']);
    expect(await overlaps(since)).toEqual(control);
    await scaleService(api, 'slow-stop', 0, WAIT);
  });

  it('reports a missing service, refuses a prefix of a service id as a name, and refuses a global service', async () => {
    await expect(scaleService(api, 'not-there', 1, WAIT)).rejects.toBeInstanceOf(ServiceNotFoundError);
    expect(await readService(api, 'not-there')).toBeUndefined();

    const { id } = await createStandInService(swarm.engine, { name: 'named', port: await freePort(), replicas: 0 });
    expect(await readService(api, id.slice(0, 6))).toBeUndefined();
    expect(await readService(api, 'named')).toMatchObject({ id, name: 'named' });

    await swarm.engine.docker.createService({
      Name: 'everywhere',
      TaskTemplate: { ContainerSpec: { Image: 'ai-dispatcher/not-here:missing' }, Networks: [{ Target: 'host' }] },
      Mode: { Global: {} },
    });
    await expect(scaleService(api, 'everywhere', 0, WAIT)).rejects.toThrow(/"everywhere" is not a replicated service/);
  });

  describe('through the DockerController (a target member {swarm_service, replicas})', () => {
    const ref = { kind: 'swarm', service: 'member', replicas: 1 } as const;
    const controller = () => createDockerodeController({ socketPath: swarm.engine.socketPath, serviceWaitMs: 20_000 });

    it('inspects, ensures running and ensures stopped with the same outcomes as for containers', async () => {
      const port = await freePort();
      const { id } = await createStandInService(swarm.engine, { name: 'member', port, replicas: 0 });
      const c = controller();
      expect(await c.inspect(ref)).toEqual({
        ref, exists: true, id, name: 'member', running: false, health: 'none', startedAt: undefined, replicas: { desired: 0, running: 0 },
      });

      expect(await c.start(ref)).toBe('started');
      expect(await standInAnswers(port)).toBe(true);
      const up = await c.inspect(ref);
      expect(up).toMatchObject({ exists: true, running: true, replicas: { desired: 1, running: 1 } });
      expect(up.startedAt).toBeInstanceOf(Date);
      expect(await c.start(ref)).toBe('already_running');
      expect(await liveTasks(swarm.engine, 'member')).toHaveLength(1);

      expect(await c.stop(ref, 5)).toBe('stopped');
      expect(await liveTasks(swarm.engine, 'member')).toEqual([]);
      expect(await c.inspect(ref)).toMatchObject({ running: false, replicas: { desired: 0, running: 0 } });
      expect(await c.stop(ref, 5)).toBe('already_stopped');
    });

    it('uses the controller error classes: a missing service, a rejected task', async () => {
      const c = controller();
      const missing = { kind: 'swarm', service: 'member-gone', replicas: 1 } as const;
      expect(await c.inspect(missing)).toMatchObject({ exists: false, running: false });
      await expect(c.start(missing)).rejects.toBeInstanceOf(ContainerNotFoundError);
      await expect(c.stop(missing, 1)).rejects.toThrow('no container matches swarm service "member-gone"');

      await createStandInService(swarm.engine, { name: 'member-no-image', port: await freePort(), image: 'ai-dispatcher/not-here:missing' });
      const error = await c.start({ kind: 'swarm', service: 'member-no-image', replicas: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DockerApiError);
      expect((error as Error).message).toMatch(/No such image/);
    });
  });
});

/** Another client's update: whole spec, current version; again when the engine says out of sequence. */
async function updateByHand(name: string, change: (spec: any) => object): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const info = await swarm.engine.docker.getService(name).inspect();
    try {
      await swarm.engine.docker.getService(info.ID).update({ _query: { version: info.Version.Index }, _body: change(info.Spec) } as never);
      return;
    } catch (error) {
      if (attempt >= 5 || !/out of sequence/.test((error as Error).message)) throw error;
    }
  }
}

