import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../receiver/src/config/config-error';
import { loadConfigFile, parseConfig } from '../../../receiver/src/config/load';
import { configErrorsOf as errorsOf } from '../../support/config-errors';

describe('parseConfig defaults', () => {
  test('an empty file gives the default group "ollama" with the ollama and sqlite-ai containers', () => {
    const config = parseConfig('');
    expect([...config.targets.keys()]).toEqual(['ollama']);
    const ollama = config.targets.get('ollama');
    expect(ollama?.members).toEqual([
      { kind: 'container', name: 'ollama' },
      { kind: 'container', name: 'sqlite-ai' },
    ]);
    expect(ollama?.readiness).toMatchObject({ type: 'http', url: 'http://127.0.0.1:11434/api/tags' });
    expect(config.auth.disabled).toBe(false);
    expect(config.webhook.resolved).toBe('ignore');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9095 });
  });

  test('compose members, docker health readiness and an IPv6 listen address', () => {
    const config = parseConfig(`
listen: "[::1]:9999"
docker: {host: "tcp://127.0.0.1:2375"}
targets:
  llm:
    members: [{compose: {project: ai, service: ollama}}]
    readiness: {type: docker_health, timeout_seconds: 5}
`);
    expect(config.listen).toEqual({ host: '::1', port: 9999 });
    expect(config.docker.host).toBe('tcp://127.0.0.1:2375');
    expect(config.targets.get('llm')?.members).toEqual([{ kind: 'compose', project: 'ai', service: 'ollama' }]);
    expect(config.targets.get('llm')?.readiness).toEqual({ type: 'docker_health', timeoutSeconds: 5, intervalSeconds: 0.5 });
  });

  test('the example configuration shipped in the repository is valid', () => {
    const config = loadConfigFile(path.resolve(__dirname, '../../../receiver/config.example.yml'));
    expect(config.targets.has('ollama')).toBe(true);
  });
});

describe('parseConfig rejects bad files with every error at once', () => {
  test('several mistakes in one file are all reported', () => {
    const errors = errorsOf(`
listen: 9095
auth: {disabled: "yes"}
webhook: {resolved: restart, body_limit_bytes: 10}
targets:
  ollama:
    members: [{container: ollama, image: evil}]
    readiness: {type: tcp}
    cooldown_seconds: -1
unknown_key: 1
`);
    expect(errors).toEqual(
      expect.arrayContaining([
        '(top level): unknown key "unknown_key"',
        '/listen: must be string',
        '/auth/disabled: must be boolean',
        '/webhook/resolved: must be one of ignore, reverse',
        '/webhook/body_limit_bytes: must be >= 1024',
        '/targets/ollama/members/0: must be one of {container: NAME}, {compose: {project, service}}, {swarm_service: NAME, replicas: N}',
        '/targets/ollama/readiness/type: must be one of http, docker_health, running',
        '/targets/ollama/cooldown_seconds: must be >= 0',
      ]),
    );
    expect(errors).toHaveLength(8);
  });

  test.each([
    ['a group without members', 'targets: {ollama: {members: []}}', '/targets/ollama/members: must NOT have fewer than 1 items'],
    ['no groups at all', 'targets: {}', '/targets: must NOT have fewer than 1 properties'],
    ['a port out of range', 'listen: "127.0.0.1:70000"', '/listen: "127.0.0.1:70000" is not HOST:PORT with a port from 0 to 65535'],
    ['a listen value without a port', 'listen: localhost', '/listen: must match pattern "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$"'],
    ['a readiness URL that is not http', 'targets: {o: {members: [{container: o}], readiness: {url: "ftp://x/"}}}', '/targets/o/readiness/url: must match pattern "^https?://"'],
    ['socket path and host together', 'docker: {socket_path: /var/run/docker.sock, host: "tcp://h:1"}', '/docker: set either socket_path or host, not both'],
    ['a container name with a slash', 'targets: {o: {members: [{container: "../etc"}]}}', '/targets/o/members/0/container: must match pattern "^[A-Za-z0-9][A-Za-z0-9_.-]*$"'],
    [
      'one container in two groups',
      'targets: {a: {members: [{container: x}]}, b: {members: [{container: x}]}}',
      '/targets/b/members/0: already a member of "a" (a container belongs to one group)',
    ],
    ['YAML that does not parse', 'targets: [', undefined],
  ])('%s', (_name, yaml, expected) => {
    const errors = errorsOf(yaml);
    if (expected === undefined) expect(errors[0]).toMatch(/^not valid YAML/);
    else expect(errors).toContain(expected);
  });

  test.each([
    ['a misspelled target key', 'targets: {ollama: {members: [{container: o}], min_runing_seconds: 5}}', '/targets/ollama: unknown key "min_runing_seconds" (did you mean "min_running_seconds"?)'],
    ['a misspelled top-level key', 'dokcer: {host: "tcp://h:1"}', '(top level): unknown key "dokcer" (did you mean "docker"?)'],
    ['a misspelled readiness key', 'targets: {o: {members: [{container: o}], readiness: {timeout: 5}}}', '/targets/o/readiness: unknown key "timeout" (did you mean "timeout_seconds"?)'],
    ['a key like none of the known ones', 'colour: blue', '(top level): unknown key "colour"'],
  ])('%s: unknown keys suggest the known key they resemble', (_name, yaml, expected) => {
    expect(errorsOf(yaml)).toContain(expected);
  });

  test('a missing file is a configuration error naming the file', () => {
    const file = path.join(os.tmpdir(), `ai-dispatcher-missing-${process.pid}.yml`);
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    expect(() => loadConfigFile(file)).toThrow(file);
  });

  test('a file is read and validated', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-config-'));
    try {
      const file = path.join(dir, 'c.yml');
      fs.writeFileSync(file, 'webhook: {dedupe_window_seconds: 5}\n');
      expect(loadConfigFile(file).webhook.dedupeWindowSeconds).toBe(5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
