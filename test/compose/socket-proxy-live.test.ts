/**
 * The compose file's socket-proxy allowlist between clients and a real dockerd (Debian's 20.10, which still
 * honours a HostConfig in the body of a start for API versions below 1.24). The proxy is the Node stand-in of
 * test/e2e/filtering-socket-proxy.ts (wollomatic/socket-proxy's matching: per-method regexps anchored on the
 * decoded path) fed the override's own SP_ALLOW_* values.
 *
 * Replayed: issue 15's attack, `POST /v1.23/containers/ollama/start` with binds of a host directory and the
 * host's PID namespace. Straight to the engine it works (so the engine is no defence, the proxy is); through
 * the proxy it is refused and the container keeps its HostConfig. The receiver's own controller still
 * starts and stops its targets through the same proxy, and another container is out of its reach.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createDockerodeController } from '../../receiver/src/docker/dockerode-controller';
import { createStandInContainer, startDockerEngine, type DockerEngine } from '../../scripts/harness/docker-engine';
import { freePort } from '../../scripts/harness/free-port';
import { startFilteringProxy, type FilteringProxy } from '../e2e/filtering-socket-proxy';

jest.setTimeout(120_000);

let engine: DockerEngine;
let proxy: FilteringProxy;
let dir: string;
let hostDir: string;

const ATTACK = () => JSON.stringify({ Binds: [`${hostDir}:/host:rw`], PidMode: 'host', NetworkMode: 'host' });

function send(socketPath: string, method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: url, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function hostConfigOf(name: string) {
  const info = await engine.docker.getContainer(name).inspect();
  return { binds: info.HostConfig.Binds ?? [], pidMode: info.HostConfig.PidMode, running: info.State.Running };
}

async function recreate(name: string, port: number): Promise<void> {
  await engine.docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  await createStandInContainer(engine, { name, port });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-live-'));
  hostDir = path.join(dir, 'host-root');
  fs.mkdirSync(hostDir);
  engine = await startDockerEngine();
  // The names the override's allowlist pins (receiver/config.compose.yml's targets), and a bystander.
  await createStandInContainer(engine, { name: 'ollama', port: await freePort() });
  await createStandInContainer(engine, { name: 'sqlite-ai', port: await freePort() });
  await createStandInContainer(engine, { name: 'postgres', port: await freePort(), start: true });
  proxy = await startFilteringProxy(path.join(dir, 'proxy.sock'), engine.socketPath);
});

afterAll(async () => {
  await proxy?.close();
  await engine?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a legacy-API start with a HostConfig body', () => {
  it('rewrites the container straight on this engine (the attack is real here)', async () => {
    const port = await freePort();
    await recreate('ollama', port);
    const answer = await send(engine.socketPath, 'POST', '/v1.23/containers/ollama/start', ATTACK());
    expect(answer.status).toBe(204);
    expect(await hostConfigOf('ollama')).toEqual({ binds: [`${hostDir}:/host:rw`], pidMode: 'host', running: true });
    await recreate('ollama', port);
  });

  it.each(['/v1.23', '/v1.12', '/v1.41', ''])('is refused by the proxy with prefix "%s", and the container keeps its HostConfig', async (prefix) => {
    const answer = await send(proxy.socketPath, 'POST', `${prefix}/containers/ollama/start`, ATTACK());
    if (prefix === '') {
      // Unprefixed is the receiver's own call: it passes the proxy, and the engine's current API refuses the body.
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('non-empty request body');
    } else {
      expect(answer.status).toBe(403);
    }
    expect(await hostConfigOf('ollama')).toEqual({ binds: [], pidMode: '', running: false });
  });
});

describe('the receiver through the same proxy', () => {
  const controller = () => createDockerodeController({ socketPath: proxy.socketPath, timeoutMs: 10_000 });

  it('inspects, starts and stops its targets by name, and nothing it sent was refused', async () => {
    const docker = controller();
    const from = proxy.requests.length;
    await docker.ping();
    const ref = { kind: 'container' as const, name: 'sqlite-ai' };
    expect(await docker.start(ref)).toBe('started');
    expect((await docker.inspect(ref)).running).toBe(true);
    expect(await docker.stop(ref, 1)).toBe('stopped');
    const sent = proxy.requests.slice(from);
    expect(sent.filter((r) => !r.allowed)).toEqual([]);
    expect(sent.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual(expect.arrayContaining([
      'GET /_ping', 'GET /containers/sqlite-ai/json', 'POST /containers/sqlite-ai/start', 'POST /containers/sqlite-ai/stop',
    ]));
  });

  it('cannot list, inspect (environment included) or stop a container that is not a target', async () => {
    const { Id } = await engine.docker.getContainer('postgres').inspect();
    for (const [method, url] of [
      ['GET', '/containers/json?all=1'],
      ['GET', '/containers/postgres/json'],
      ['GET', `/containers/${Id}/json`],
      ['POST', '/containers/postgres/stop'],
      ['POST', `/containers/${Id.slice(0, 12)}/stop`],
    ] as const) {
      expect([method, url, (await send(proxy.socketPath, method, url)).status]).toEqual([method, url, 403]);
    }
    await expect(controller().stop({ kind: 'container', name: 'postgres' }, 1)).rejects.toThrow(/403/);
    expect((await engine.docker.getContainer('postgres').inspect()).State.Running).toBe(true);
  });
});
