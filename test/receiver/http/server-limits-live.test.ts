/**
 * Issue 15: the receiver's HTTP server had Node's defaults (headers 60 s, request 300 s, no connection cap).
 * The receiver as main.ts starts it: its server carries SERVER_LIMITS, a client that trickles its headers is
 * cut off after headersTimeout (not 60 s), and connections over the cap are closed at once.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SERVER_LIMITS, createLimitedServer } from '../../../receiver/src/http/server-limits';
import { startReceiver, type RunningReceiver } from '../../../receiver/src/main';

jest.setTimeout(60_000);

let dir: string;
let running: RunningReceiver;
let port: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-limits-'));
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, `docker: {socket_path: ${path.join(dir, 'no-engine.sock')}}\ntargets: {ollama: {members: [{container: ollama}]}}\n`);
  running = await startReceiver({ configPath: config, listen: '127.0.0.1:0', env: { AI_DISPATCHER_TOKEN: 'limits-token-0123456789' }, write: () => undefined });
  port = Number(new URL(running.url).port);
});

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the server runs with the limits, not Node\'s defaults', () => {
  expect(running.server.headersTimeout).toBe(SERVER_LIMITS.headersTimeoutMs);
  expect(running.server.requestTimeout).toBe(SERVER_LIMITS.requestTimeoutMs);
  expect(running.server.maxConnections).toBe(SERVER_LIMITS.maxConnections);
  expect(running.server.keepAliveTimeout).toBe(SERVER_LIMITS.keepAliveTimeoutMs);
  expect(SERVER_LIMITS.headersTimeoutMs).toBeLessThan(60_000);
  expect(SERVER_LIMITS.requestTimeoutMs).toBeLessThan(300_000);
});

test('a client that trickles its headers is answered 408 and cut off after headersTimeout, not after a minute', async () => {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const began = Date.now();
  let answer = '';
  socket.on('data', (c) => (answer += c.toString()));
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  const trickle = setInterval(() => socket.write('X-A: b\r\n'), 500);
  await once(socket, 'close');
  clearInterval(trickle);
  const elapsed = Date.now() - began;
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
  expect(elapsed).toBeGreaterThanOrEqual(SERVER_LIMITS.headersTimeoutMs - 100);
  expect(elapsed).toBeLessThan(SERVER_LIMITS.headersTimeoutMs + 2 * SERVER_LIMITS.connectionsCheckingIntervalMs + 3000);
});

test('connections over the cap are closed at once; those under it are served', async () => {
  const server = createLimitedServer((_req, res) => res.end('ok'), { ...SERVER_LIMITS, maxConnections: 5 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const capPort = (server.address() as net.AddressInfo).port;
  const sockets = await Promise.all(Array.from({ length: 5 }, async () => {
    const s = net.connect(capPort, '127.0.0.1');
    await once(s, 'connect');
    return s;
  }));
  try {
    // Let the server accept the five before the sixth arrives.
    await new Promise((r) => setTimeout(r, 200));
    const extra = net.connect(capPort, '127.0.0.1');
    let extraAnswer = '';
    extra.on('data', (c) => (extraAnswer += c.toString()));
    extra.on('error', () => undefined);
    extra.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(extra, 'close');
    expect(extraAnswer).toBe('');
    const first = sockets[0]!;
    let firstAnswer = '';
    first.on('data', (c) => (firstAnswer += c.toString()));
    first.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(firstAnswer).toMatch(/^HTTP\/1\.1 200/);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});
