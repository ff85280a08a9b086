import { parseConfig } from '../../../receiver/src/config/load';
import { configErrorsOf as errorsOf } from '../../support/config-errors';

describe('a Swarm service as a target member', () => {
  test('swarm_service with replicas, and replicas defaulting to 1', () => {
    const config = parseConfig(`
targets:
  ollama:
    members: [{swarm_service: ollama, replicas: 2}, {swarm_service: sqlite-ai}]
`);
    expect(config.targets.get('ollama')?.members).toEqual([
      { kind: 'swarm', service: 'ollama', replicas: 2 },
      { kind: 'swarm', service: 'sqlite-ai', replicas: 1 },
    ]);
  });

  test('mixes with containers in one group', () => {
    const config = parseConfig('targets: {ai: {members: [{container: db}, {swarm_service: llm}]}}');
    expect(config.targets.get('ai')?.members).toEqual([
      { kind: 'container', name: 'db' },
      { kind: 'swarm', service: 'llm', replicas: 1 },
    ]);
  });

  test.each([
    ['replicas: 0 (stopping is what scales to 0)', '{swarm_service: ollama, replicas: 0}'],
    ['replicas not a whole number', '{swarm_service: ollama, replicas: 1.5}'],
    ['replicas as a string', '{swarm_service: ollama, replicas: "2"}'],
    ['a service name with a slash', '{swarm_service: "a/b"}'],
    ['an empty service name', '{swarm_service: ""}'],
    ['replicas without a service', '{replicas: 1}'],
    ['a service and a container in one member', '{swarm_service: ollama, container: ollama}'],
    ['an unknown key', '{swarm_service: ollama, mode: global}'],
  ])('rejects %s', (_case, member) => {
    const errors = errorsOf(`targets: {ollama: {members: [${member}]}}`);
    expect(errors).toContain(
      '/targets/ollama/members/0: must be one of {container: NAME}, {compose: {project, service}}, {swarm_service: NAME, replicas: N}',
    );
    // Details, when there are any, point into that member.
    for (const line of errors) expect(line).toMatch(/^\/targets\/ollama\/members\/0[:/]/);
  });

  test('a service belongs to one group, whatever replica count each group asks for', () => {
    expect(
      errorsOf(`
targets:
  a: {members: [{swarm_service: ollama, replicas: 1}]}
  b: {members: [{swarm_service: ollama, replicas: 3}]}
`),
    ).toEqual(['/targets/b/members/0: already a member of "a" (a container belongs to one group)']);
  });
});
