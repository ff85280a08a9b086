import request from 'supertest';
import { FakeDocker } from '../../support/fake-docker';
import { TEST_TOKEN, buildTestReceiver, settled } from '../../support/receiver-app';

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

const yaml = `
targets:
  ollama:
    members: [{swarm_service: svc-ollama, replicas: 2}, {container: sqlite-ai}]
    readiness: {type: running}
    min_running_seconds: 0
    cooldown_seconds: 0
`;

function setup() {
  const docker = new FakeDocker().addSwarm('svc-ollama', 0).add('sqlite-ai');
  return buildTestReceiver({ docker, yaml });
}

async function members(r: ReturnType<typeof setup>) {
  const res = await request(r.app).get('/api/v1/targets/ollama').set(auth);
  expect(res.status).toBe(200);
  return res.body.members as Array<Record<string, unknown>>;
}

describe('GET /api/v1/targets: Swarm members show their desired and running replicas', () => {
  test('as read from Docker, after a start and a stop by the receiver, and after a change by hand', async () => {
    const r = setup();
    await r.start();
    expect(await members(r)).toEqual([
      { ref: { kind: 'swarm', service: 'svc-ollama', replicas: 2 }, exists: true, running: false, health: 'none', replicas: { desired: 0, running: 0 } },
      // Containers have no replica counts.
      { ref: { kind: 'container', name: 'sqlite-ai' }, exists: true, running: false, health: 'none' },
    ]);

    expect((await request(r.app).post('/api/v1/targets/ollama/start').set(auth)).status).toBe(202);
    await settled(r);
    expect((await members(r))[0]).toMatchObject({ running: true, replicas: { desired: 2, running: 2 } });

    // One task dies and Swarm has not replaced it yet: the next refresh shows it.
    r.docker.setReplicas('svc-ollama', 2, 1);
    await r.manager.refresh();
    expect((await members(r))[0]).toMatchObject({ running: true, replicas: { desired: 2, running: 1 } });

    expect((await request(r.app).post('/api/v1/targets/ollama/stop').set(auth)).status).toBe(202);
    await settled(r);
    expect((await members(r))[0]).toMatchObject({ running: false, replicas: { desired: 0, running: 0 } });
    await r.close();
  });

  test('a service scaled higher by hand keeps its count through a start, and the list view shows the same', async () => {
    const r = setup();
    await r.start();
    r.docker.setReplicas('svc-ollama', 3, 0);
    await r.manager.refresh();
    expect((await request(r.app).post('/api/v1/targets/ollama/start').set(auth)).status).toBe(202);
    await settled(r);
    const list = await request(r.app).get('/api/v1/targets').set(auth);
    // The start waited for the member's 2 tasks; the third is counted once Docker is read again.
    expect(list.body.targets[0].members[0]).toMatchObject({ running: true, replicas: { desired: 3, running: 2 } });
    await r.manager.refresh();
    expect((await members(r))[0]).toMatchObject({ replicas: { desired: 3, running: 3 } });
    await r.close();
  });

  test('a Swarm service that does not exist shows no counts', async () => {
    const r = buildTestReceiver({ docker: new FakeDocker().add('sqlite-ai'), yaml });
    await r.start();
    expect((await members(r))[0]).toEqual({ ref: { kind: 'swarm', service: 'svc-ollama', replicas: 2 }, exists: false, running: false, health: 'none' });
  });
});
