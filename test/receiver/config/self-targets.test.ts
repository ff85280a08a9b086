/**
 * Issue 15: the config accepted the receiver's own container or the socket proxy as a target; a stop would
 * take down the controller. Refused by name at config load (the Docker host's name) and by id at start (the
 * container the receiver runs in, as Docker's bind mounts tell it: read live from a container here).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../receiver/src/config/config-error';
import { parseConfig } from '../../../receiver/src/config/load';
import { containerIdFrom } from '../../../receiver/src/config/self-targets';
import { StartupError } from '../../../receiver/src/config/startup-error';
import { startReceiver } from '../../../receiver/src/main';
import { buildStandInImage, createStandInContainer, startDockerEngine, type DockerEngine } from '../../../scripts/harness/docker-engine';
import { freePort } from '../../../scripts/harness/free-port';

jest.setTimeout(120_000);

describe('at config load: the Docker host the receiver talks through', () => {
  const config = (members: string) => `docker: {host: "tcp://docker-socket-proxy:2375"}\ntargets: {ai: {members: ${members}}}`;

  test.each([
    ['a container of that name', '[{container: ollama}, {container: docker-socket-proxy}]', '/targets/ai/members/1'],
    ['a compose service of that name', '[{compose: {project: stack, service: docker-socket-proxy}}]', '/targets/ai/members/0'],
    ['a swarm service of that name', '[{swarm_service: Docker-Socket-Proxy}]', '/targets/ai/members/0'],
  ])('%s is refused', (_name, members, where) => {
    let error: unknown;
    try {
      parseConfig(config(members));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).errors).toEqual([`${where}: "docker-socket-proxy" is the Docker host the receiver talks to (docker.host); stopping it would cut the receiver off from Docker`]);
  });

  test('other names, unix sockets and IP hosts pass', () => {
    expect(() => parseConfig(config('[{container: ollama}]'))).not.toThrow();
    expect(() => parseConfig('docker: {socket_path: /var/run/docker.sock}\ntargets: {ai: {members: [{container: docker}]}}')).not.toThrow();
    expect(() => parseConfig('docker: {host: "tcp://10.0.0.5:2375"}\ntargets: {ai: {members: [{container: ollama}]}}')).not.toThrow();
  });
});

describe('at start: the receiver\'s own container', () => {
  let engine: DockerEngine;
  let dir: string;
  let own: { id: string };
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'self-target-'));
    engine = await startDockerEngine();
    await buildStandInImage(engine);
    own = await createStandInContainer(engine, { name: 'receiver-itself', port: await freePort(), start: true });
    await createStandInContainer(engine, { name: 'ollama', port: await freePort() });
  });
  afterAll(async () => {
    await engine?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a process in a container finds that container\'s id (mountinfo as Docker 20.10 makes it)', async () => {
    const c = engine.docker.getContainer(own.id);
    const run = async (file: string) => {
      const e = await c.exec({ Cmd: ['cat', file], AttachStdout: true });
      const stream = await e.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      stream.on('data', (x: Buffer) => chunks.push(x));
      await new Promise((r) => stream.on('end', r));
      // Strip the 8-byte multiplexing headers of each frame.
      const all = Buffer.concat(chunks);
      const parts: Buffer[] = [];
      for (let i = 0; i + 8 <= all.length; ) {
        const size = all.readUInt32BE(i + 4);
        parts.push(all.subarray(i + 8, i + 8 + size));
        i += 8 + size;
      }
      return Buffer.concat(parts).toString('utf8');
    };
    const mountinfo = await run('/proc/self/mountinfo');
    expect(containerIdFrom(mountinfo, '')).toBe(own.id);
    expect(containerIdFrom('', await run('/proc/self/cgroup'))).toBe(/[0-9a-f]{64}/.test(await run('/proc/self/cgroup')) ? own.id : undefined);
    // The host (this test process) is in no container.
    expect(containerIdFrom(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'))).toBeUndefined();
  });

  const configFile = (members: string) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
    fs.writeFileSync(file, `docker: {socket_path: ${engine.socketPath}}\ntargets: {ai: {members: ${members}, readiness: {type: running}}}\n`);
    return file;
  };
  const env = { AI_DISPATCHER_TOKEN: 'self-target-token-0123456789' };

  test('a target that is the receiver\'s own container is refused before it listens', async () => {
    const file = configFile('[{container: ollama}, {container: receiver-itself}]');
    const failure = await startReceiver({ configPath: file, listen: '127.0.0.1:0', env, ownContainerId: own.id, write: () => undefined }).catch((e) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as StartupError).problems).toEqual([{
      source: `configuration file ${file}`,
      errors: [`/targets/ai/members/1: this is the receiver's own container (${own.id.slice(0, 12)}); stopping it would stop the receiver`],
    }]);
  });

  test('other targets start as usual in a container', async () => {
    const running = await startReceiver({ configPath: configFile('[{container: ollama}]'), listen: '127.0.0.1:0', env, ownContainerId: own.id, write: () => undefined });
    await running.stop();
  });

  test('DOCKER_HOST naming a target is refused like docker.host', async () => {
    const file = path.join(dir, 'env-host.yml');
    fs.writeFileSync(file, 'targets: {ai: {members: [{container: proxy}]}}\n');
    const failure = await startReceiver({ configPath: file, env: { ...env, DOCKER_HOST: 'tcp://proxy:2375' }, ownContainerId: null, write: () => undefined }).catch((e) => e);
    expect((failure as StartupError).problems[0].errors).toEqual([expect.stringContaining('"proxy" is the Docker host the receiver talks to')]);
  });
});
