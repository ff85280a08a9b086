/**
 * The dockerode controller against a real dockerd (private socket, one engine for this file).
 * A small TCP forwarder in front of the engine stands in for a socket proxy: it checks the TCP
 * options and, when told to, answers 403 to POSTs the way docker-socket-proxy does.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { ContainerNotFoundError, DockerApiError, DockerUnavailableError } from '../../../receiver/src/docker/controller';
import { createDockerodeController, parseDockerHost } from '../../../receiver/src/docker/dockerode-controller';
import {
  DockerEngine,
  buildStandInImage,
  containerRunning,
  createStandInContainer,
  standInAnswers,
  startDockerEngine,
  waitForStandIn,
} from '../../../scripts/harness/docker-engine';

jest.setTimeout(60_000);

let engine: DockerEngine;

beforeAll(async () => {
  engine = await startDockerEngine();
  await buildStandInImage(engine);
});

afterAll(async () => {
  await engine?.stop();
});

function controller(timeoutMs = 3000) {
  return createDockerodeController({ socketPath: engine.socketPath, timeoutMs });
}

describe('parseDockerHost', () => {
  it('reads unix, tcp and https hosts', () => {
    expect(parseDockerHost('unix:///run/docker.sock')).toEqual({ socketPath: '/run/docker.sock' });
    expect(parseDockerHost('tcp://proxy:2375')).toEqual({ host: 'proxy', port: 2375, protocol: 'http' });
    expect(parseDockerHost('tcp://proxy')).toEqual({ host: 'proxy', port: 2375, protocol: 'http' });
    expect(parseDockerHost('https://docker.example:2376')).toEqual({ host: 'docker.example', port: 2376, protocol: 'https' });
    expect(parseDockerHost('tcp://[::1]:2375')).toEqual({ host: '::1', port: 2375, protocol: 'http' });
  });

  it('rejects what is not a Docker host', () => {
    expect(() => parseDockerHost('unix://relative.sock')).toThrow(/absolute/);
    expect(() => parseDockerHost('ssh://user@host')).toThrow(/neither/);
    expect(() => parseDockerHost('docker.sock')).toThrow(/neither/);
  });
});

describe('on a running engine', () => {
  it('pings', async () => {
    await expect(controller().ping()).resolves.toBeUndefined();
  });

  it('inspects an existing stopped container by its exact name', async () => {
    const created = await createStandInContainer(engine, { name: 'inspect-me' });
    const state = await controller().inspect({ kind: 'container', name: 'inspect-me' });
    expect(state).toEqual({
      ref: { kind: 'container', name: 'inspect-me' },
      exists: true,
      id: created.id,
      name: 'inspect-me',
      running: false,
      health: 'none',
      startedAt: undefined,
    });
  });

  it('reports a missing container as not existing, and never matches by name prefix or id prefix', async () => {
    const created = await createStandInContainer(engine, { name: 'prefix-target-1' });
    const c = controller();
    for (const name of ['no-such-container', 'prefix-target', created.id.slice(0, 12), 'bad/name']) {
      await expect(c.inspect({ kind: 'container', name })).resolves.toMatchObject({ exists: false, running: false });
      await expect(c.start({ kind: 'container', name })).rejects.toBeInstanceOf(ContainerNotFoundError);
      await expect(c.stop({ kind: 'container', name }, 1)).rejects.toBeInstanceOf(ContainerNotFoundError);
    }
    expect(await containerRunning(engine, created.id)).toBe(false);
  });

  it('starts and stops, and treats the 304 answers as already running / already stopped', async () => {
    const created = await createStandInContainer(engine, { name: 'lifecycle' });
    const ref = { kind: 'container', name: 'lifecycle' } as const;
    const c = controller();

    await expect(c.start(ref)).resolves.toBe('started');
    expect(await containerRunning(engine, created.id)).toBe(true);
    await waitForStandIn(created.port);
    await expect(c.start(ref)).resolves.toBe('already_running');
    const running = await c.inspect(ref);
    expect(running).toMatchObject({ exists: true, running: true, health: 'none' });
    expect(running.startedAt).toBeInstanceOf(Date);
    expect(Date.now() - running.startedAt!.getTime()).toBeLessThan(30_000);

    await expect(c.stop(ref, 5)).resolves.toBe('stopped');
    expect(await containerRunning(engine, created.id)).toBe(false);
    expect(await standInAnswers(created.port)).toBe(false);
    await expect(c.stop(ref, 5)).resolves.toBe('already_stopped');
    await expect(c.inspect(ref)).resolves.toMatchObject({ exists: true, running: false });
  });

  it("reports the container's Docker healthcheck", async () => {
    await createStandInContainer(engine, { name: 'with-health', healthcheck: true, readyDelaySeconds: 1 });
    const ref = { kind: 'container', name: 'with-health' } as const;
    const c = controller();
    await c.start(ref);
    expect((await c.inspect(ref)).health).toBe('starting');
    const deadline = Date.now() + 15_000;
    while ((await c.inspect(ref)).health !== 'healthy' && Date.now() < deadline) await sleep(200);
    expect((await c.inspect(ref)).health).toBe('healthy');
    await c.stop(ref, 5);
  });

  it('finds compose services by project and service labels, leaving other services and one-off runs alone', async () => {
    const compose = (service: string, number: string, extra: Record<string, string> = {}) => ({
      'com.docker.compose.project': 'stack',
      'com.docker.compose.service': service,
      'com.docker.compose.container-number': number,
      ...extra,
    });
    const a = await createStandInContainer(engine, { name: 'stack-ollama-1', labels: compose('ollama', '1') });
    const b = await createStandInContainer(engine, { name: 'stack-ollama-2', labels: compose('ollama', '2') });
    const other = await createStandInContainer(engine, { name: 'stack-sqlite-ai-1', labels: compose('sqlite-ai', '1') });
    const oneoff = await createStandInContainer(engine, {
      name: 'stack-ollama-run-1',
      labels: compose('ollama', '1', { 'com.docker.compose.oneoff': 'True' }),
    });
    const ref = { kind: 'compose', project: 'stack', service: 'ollama' } as const;
    const c = controller();

    await expect(c.inspect(ref)).resolves.toMatchObject({ exists: true, running: false, name: 'stack-ollama-1', id: a.id });
    // One of two replicas running is not "running": ensure-start must still act.
    await engine.docker.getContainer(b.id).start();
    await expect(c.inspect(ref)).resolves.toMatchObject({ running: false });
    await expect(c.start(ref)).resolves.toBe('started');
    expect([await containerRunning(engine, a.id), await containerRunning(engine, b.id)]).toEqual([true, true]);
    expect([await containerRunning(engine, other.id), await containerRunning(engine, oneoff.id)]).toEqual([false, false]);
    await expect(c.inspect(ref)).resolves.toMatchObject({ exists: true, running: true });
    await expect(c.start(ref)).resolves.toBe('already_running');

    await expect(c.stop(ref, 5)).resolves.toBe('stopped');
    expect([await containerRunning(engine, a.id), await containerRunning(engine, b.id)]).toEqual([false, false]);
    await expect(c.stop(ref, 5)).resolves.toBe('already_stopped');

    const missing = { kind: 'compose', project: 'stack', service: 'nothing' } as const;
    await expect(c.inspect(missing)).resolves.toMatchObject({ exists: false });
    await expect(c.start(missing)).rejects.toBeInstanceOf(ContainerNotFoundError);
    await expect(c.inspect({ kind: 'compose', project: 'other', service: 'ollama' })).resolves.toMatchObject({ exists: false });
  });

  it('reports an engine error on start as DockerApiError with its status code', async () => {
    const image = await buildStandInImage(engine);
    await engine.docker.createContainer({ name: 'broken', Image: image, Cmd: ['/no/such/binary'], HostConfig: { NetworkMode: 'host' } });
    const error = await controller().start({ kind: 'container', name: 'broken' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerApiError);
    expect((error as DockerApiError).statusCode).toBeGreaterThanOrEqual(400);
    expect((error as DockerApiError).message).toMatch(/no such file|not found/i);
  });
});

/** The calls the controller's header documents, as a filtering proxy would allow them (paths without the query). */
const DOCUMENTED_CALLS: Array<[string, RegExp]> = [
  ['GET', /^\/_ping$/],
  ['GET', /^\/containers\/json$/],
  ['GET', /^\/containers\/[a-zA-Z0-9_.-]+\/json$/],
  ['POST', /^\/containers\/[a-zA-Z0-9_.-]+\/(start|stop)$/],
];

describe('through a filtering socket proxy over TCP', () => {
  let proxy: http.Server;
  let forbidPosts = false;
  const refused: string[] = [];

  beforeAll(async () => {
    proxy = http.createServer((req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://proxy').pathname;
      const allowed = DOCUMENTED_CALLS.some(([method, pattern]) => method === req.method && pattern.test(pathname));
      if (!allowed || (forbidPosts && req.method === 'POST')) {
        if (!allowed) refused.push(`${req.method} ${pathname}`);
        // As docker-socket-proxy (HAProxy) answers a call it does not allow.
        res.writeHead(403, { 'content-type': 'text/html' });
        res.end('<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n');
        return;
      }
      const upstream = http.request(
        { socketPath: engine.socketPath, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('does everything with the documented calls only, over host/port', async () => {
    await createStandInContainer(engine, { name: 'behind-proxy' });
    await createStandInContainer(engine, {
      name: 'proxy-stack-ollama-1',
      labels: { 'com.docker.compose.project': 'proxy-stack', 'com.docker.compose.service': 'ollama' },
    });
    const c = createDockerodeController({ host: '127.0.0.1', port: (proxy.address() as AddressInfo).port, timeoutMs: 3000 });
    for (const ref of [
      { kind: 'container', name: 'behind-proxy' } as const,
      { kind: 'compose', project: 'proxy-stack', service: 'ollama' } as const,
    ]) {
      await expect(c.ping()).resolves.toBeUndefined();
      await expect(c.inspect(ref)).resolves.toMatchObject({ exists: true, running: false });
      await expect(c.start(ref)).resolves.toBe('started');
      await expect(c.start(ref)).resolves.toBe('already_running');
      await expect(c.stop(ref, 5)).resolves.toBe('stopped');
      await expect(c.stop(ref, 5)).resolves.toBe('already_stopped');
    }
    await expect(c.inspect({ kind: 'container', name: 'nobody' })).resolves.toMatchObject({ exists: false });
    expect(refused).toEqual([]);
  });

  it('reports a call the proxy forbids as DockerApiError 403 with a short message, not as a missing container', async () => {
    const c = createDockerodeController({ host: '127.0.0.1', port: (proxy.address() as AddressInfo).port, timeoutMs: 3000 });
    const ref = { kind: 'container', name: 'behind-proxy' } as const;
    forbidPosts = true;
    try {
      const error = await c.start(ref).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DockerApiError);
      expect((error as DockerApiError).statusCode).toBe(403);
      expect((error as DockerApiError).message).toMatch(/HTTP 403/);
      expect((error as DockerApiError).message.length).toBeLessThan(300);
    } finally {
      forbidPosts = false;
    }
    await expect(c.inspect(ref)).resolves.toMatchObject({ exists: true, running: false });
  });
});

describe('when the engine goes away', () => {
  it('times out against a hung engine with DockerUnavailableError', async () => {
    const c = controller(300);
    engine.freeze();
    try {
      const started = Date.now();
      await expect(c.ping()).rejects.toBeInstanceOf(DockerUnavailableError);
      await expect(c.inspect({ kind: 'container', name: 'lifecycle' })).rejects.toThrow(/no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      engine.thaw();
    }
    await expect(c.ping()).resolves.toBeUndefined();
  });

  it('answers DockerUnavailableError while the engine is stopped, and works again once it is back', async () => {
    const { port } = await createStandInContainer(engine, { name: 'survivor' });
    const ref = { kind: 'container', name: 'survivor' } as const;
    const c = controller();
    await engine.halt();
    await expect(c.ping()).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(c.inspect(ref)).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(c.start(ref)).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(c.stop(ref, 1)).rejects.toThrow(/unreachable \(ENOENT\)/);

    await engine.restart();
    await expect(c.ping()).resolves.toBeUndefined();
    await expect(c.start(ref)).resolves.toBe('started');
    await waitForStandIn(port);
    await expect(c.stop(ref, 5)).resolves.toBe('stopped');
  });

  it('reports a refused connection (a plain file where the socket should be) as DockerUnavailableError', async () => {
    const socketPath = path.join(engine.dir, 'not-a-socket');
    fs.writeFileSync(socketPath, '');
    const error = await createDockerodeController({ socketPath, timeoutMs: 1000 }).ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
