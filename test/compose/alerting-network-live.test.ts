/**
 * Alertmanager's API (alerts and silences, no auth) on the compose topology: the networks and each service's
 * attachment are read from docker-compose.override.yml and recreated on a private dockerd, with the real
 * Alertmanager binary (Debian's 0.25, the override's version) in the `alertmanager` container, busybox
 * containers in the places of Prometheus and the receiver, and a client container where any other service
 * of the stack sits (n8n, Grafana, the gateway: the `default` network).
 *
 * The client can no longer post an alert that starts a target or a silence that blocks one, nor reach the
 * socket proxy's port; Prometheus can still post alerts, Alertmanager can still reach the receiver, and the
 * receiver the proxy. With the previous override (Alertmanager
 * on `default`) the client's post is accepted and this test fails.
 *
 * The private dockerd runs in its own network namespace (`ip netns`) with --iptables=true, as a production
 * engine does, so its network isolation rules are real and stay inside that namespace. Requests are raw
 * HTTP over busybox nc (static busybox's wget cannot resolve without NSS).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { buildStandInImage, startDockerEngine, type DockerEngine } from '../../scripts/harness/docker-engine';
import { loadInterpolated, networksOf } from './compose-file';

jest.setTimeout(180_000);

const compose = loadInterpolated();
const services = compose.services as Record<string, any>;
const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

let engine: DockerEngine | undefined;
let dir: string;
const netns = `amnet${process.pid}`;
const containers: Record<string, Docker.Container> = {};
const ips: Record<string, Record<string, string>> = {};

/** Runs a command in a container; exit code and output. */
async function exec(container: Docker.Container, cmd: string[]): Promise<{ code: number; output: string }> {
  const e = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  const { ExitCode } = await e.inspect();
  // eslint-disable-next-line no-control-regex -- drops the control bytes of Docker's stream frame headers
  return { code: ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8').replace(/[\x00-\x08]/g, '') };
}

/** One HTTP/1.0 request with nc from inside a container: the status code, or 0 when no answer came (3 s). */
async function http(from: string, method: string, ip: string, port: number, urlPath: string, body = ''): Promise<number> {
  const request = `${method} ${urlPath} HTTP/1.0\r\nHost: ${ip}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const res = await exec(containers[from]!, ['sh', '-c', 'printf "%s" "$1" | nc -w 3 "$2" "$3"', 'sh', request, ip, String(port)]);
  return Number(/HTTP\/1\.[01] (\d{3})/.exec(res.output)?.[1] ?? 0);
}

function postAlert(from: string, amIp: string) {
  const alert = JSON.stringify([{ labels: { alertname: 'Forged', ai_dispatcher_action: 'start', ai_dispatcher_target: 'ollama' } }]);
  return http(from, 'POST', amIp, 9093, '/api/v2/alerts', alert);
}

function postSilence(from: string, amIp: string) {
  const now = new Date();
  const silence = JSON.stringify({
    matchers: [{ name: 'ai_dispatcher_target', value: 'ollama', isRegex: false }],
    startsAt: now.toISOString(), endsAt: new Date(now.getTime() + 3600_000).toISOString(), createdBy: 'attacker', comment: 'x',
  });
  return http(from, 'POST', amIp, 9093, '/api/v2/silences', silence);
}

/** The client's way in: any address of Alertmanager's, on any network it is on. */
function alertmanagerIps(): string[] {
  return Object.values(ips.alertmanager!);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'am-net-'));
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), 'route: {receiver: ai-dispatcher}\nreceivers: [{name: ai-dispatcher}]\n');
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  engine = await startDockerEngine({ netns, extraArgs: ['--iptables=true'] });
  const image = await buildStandInImage(engine);

  // The override's networks, plus Compose's `default` (a plain bridge), under one project prefix.
  const names = new Set<string>(['default', ...Object.keys(compose.networks ?? {})]);
  for (const name of names) {
    await engine.docker.createNetwork({ Name: `stack_${name}`, Driver: 'bridge', Internal: compose.networks?.[name]?.internal === true });
  }

  const place: Record<string, { networks: string[]; cmd: string[]; binds?: string[] }> = {
    alertmanager: {
      networks: networksOf(services.alertmanager),
      cmd: ['/bin/alertmanager', '--config.file=/etc/am/alertmanager.yml', '--storage.path=/tmp', '--web.listen-address=0.0.0.0:9093', '--cluster.listen-address='],
      binds: [
        `${ALERTMANAGER_BIN}:/bin/alertmanager:ro`, '/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro', '/lib64:/lib64:ro',
        `${dir}:/etc/am:ro`, '/usr/share/prometheus/alertmanager:/usr/share/prometheus/alertmanager:ro',
      ],
    },
    prometheus: { networks: networksOf(services.prometheus), cmd: ['sleep', '3600'] },
    'ai-dispatcher': { networks: networksOf(services['ai-dispatcher']), cmd: ['httpd', '-f', '-p', '0.0.0.0:9095', '-h', '/www'] },
    // The socket proxy's place, answering on its port (what it forwards is socket-proxy-live.test.ts's subject).
    'docker-socket-proxy': { networks: networksOf(services['docker-socket-proxy']), cmd: ['httpd', '-f', '-p', '0.0.0.0:2375', '-h', '/www'] },
    // Every service the override gives no networks sits on `default` (n8n, Grafana, the user's own).
    client: { networks: networksOf(services.n8n), cmd: ['sleep', '3600'] },
  };
  for (const [name, p] of Object.entries(place)) {
    const [first, ...rest] = p.networks;
    const c = await engine.docker.createContainer({
      name, Image: image, Cmd: p.cmd, User: '0',
      HostConfig: { NetworkMode: `stack_${first}`, Binds: p.binds },
    });
    for (const net of rest) await engine.docker.getNetwork(`stack_${net}`).connect({ Container: c.id });
    await c.start();
    containers[name] = c;
    const info = await c.inspect();
    ips[name] = Object.fromEntries(Object.entries(info.NetworkSettings.Networks).map(([n, s]) => [n.replace(/^stack_/, ''), s.IPAddress]));
  }
  // Alertmanager is ready when it answers Prometheus (or, with the old topology, anyone).
  const deadline = Date.now() + 20_000;
  for (;;) {
    if ((await http('prometheus', 'GET', ips.alertmanager![networksOf(services.alertmanager)[0]!]!, 9093, '/-/ready')) === 200) break;
    if (Date.now() > deadline) throw new Error(`Alertmanager not ready:\n${(await containers.alertmanager!.logs({ stdout: true, stderr: true })).toString()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await engine?.stop();
  execFileSync('ip', ['netns', 'del', netns]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('puts Alertmanager on no network that a client of the stack is on', () => {
  const shared = networksOf(services.alertmanager).filter((n) => networksOf(services.n8n).includes(n));
  expect(shared).toEqual([]);
});

it('a container on the default network cannot post an alert to Alertmanager, at any of its addresses', async () => {
  for (const ip of alertmanagerIps()) {
    expect({ ip, status: await postAlert('client', ip) }).toEqual({ ip, status: 0 });
  }
});

it('nor a silence that would block a start', async () => {
  for (const ip of alertmanagerIps()) {
    expect({ ip, status: await postSilence('client', ip) }).toEqual({ ip, status: 0 });
  }
});

it('nor reach the socket proxy, while the receiver does', async () => {
  for (const ip of Object.values(ips['docker-socket-proxy']!)) {
    expect({ ip, status: await http('client', 'GET', ip, 2375, '/api/tags') }).toEqual({ ip, status: 0 });
    expect({ ip, status: await http('ai-dispatcher', 'GET', ip, 2375, '/api/tags') }).toEqual({ ip, status: 200 });
  }
});

it('Prometheus still posts alerts, and Alertmanager still reaches the receiver', async () => {
  const amIp = ips.alertmanager![networksOf(services.alertmanager)[0]!]!;
  expect(await postAlert('prometheus', amIp)).toBe(200);
  expect(await postSilence('prometheus', amIp)).toBe(200);
  const shared = networksOf(services.alertmanager).find((n) => networksOf(services['ai-dispatcher']).includes(n))!;
  expect(await http('alertmanager', 'GET', ips['ai-dispatcher']![shared]!, 9095, '/api/tags')).toBe(200);
});
