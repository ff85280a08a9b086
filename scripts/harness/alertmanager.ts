/**
 * Live-test helper: real Alertmanagers (Debian's prometheus-alertmanager 0.25) on free loopback ports,
 * alone or clustered (gossip on 127.0.0.1).
 *
 *   const [am1, am2] = await startAlertmanagerCluster(2, configYaml);   // peers of each other
 *   await am1.postAlerts([{ labels, annotations, startsAt }]);          // API v2 POST /api/v2/alerts
 *   await am1.stop();
 *
 * API
 * - startAlertmanager({ config, peers?, clustered?, peerTimeout? }) -> AlertmanagerServer
 *     config       the alertmanager.yml text
 *     clustered    listen for gossip on 127.0.0.1:<free port> (default: clustering off)
 *     peers        other members' cluster addresses (127.0.0.1:PORT)
 *     peerTimeout  --cluster.peer-timeout (how long member N waits for member N-1's notification; default 15s)
 * - startAlertmanagerCluster(n, config, { peerTimeout? }) -> n members, each listing all the others
 *   AlertmanagerServer:
 *     url, clusterAddress, dir (config, data, alertmanager.log)
 *     postAlerts(alerts)  POST /api/v2/alerts; throws unless 200
 *     alerts()            GET /api/v2/alerts
 *     status()            GET /api/v2/status (cluster.status, cluster.peers)
 *     stop()              SIGTERM, wait for exit (SIGKILL after 10 s), remove dir; safe to call twice
 *     logs()
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { poll } from './eventually';
import { freePort } from './free-port';

const BIN = process.env.ALERTMANAGER_BIN ?? 'prometheus-alertmanager';
const READY_TIMEOUT_MS = 15_000;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface AlertmanagerOptions {
  config: string;
  clustered?: boolean;
  peers?: string[];
  peerTimeout?: string;
  /** A cluster address chosen by the caller (startAlertmanagerCluster knows every member's address up front). */
  clusterPort?: number;
}

export interface AlertmanagerServer {
  url: string;
  clusterAddress: string | undefined;
  dir: string;
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  alerts(): Promise<Array<{ labels: Record<string, string>; startsAt: string; status: { state: string } }>>;
  status(): Promise<{ cluster: { status: string; peers?: Array<{ name: string; address: string }> } }>;
  stop(): Promise<void>;
  logs(): string;
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-am-'));
  const configFile = path.join(dir, 'alertmanager.yml');
  const logFile = path.join(dir, 'alertmanager.log');
  fs.writeFileSync(configFile, options.config);
  const clustered = options.clustered ?? (options.peers !== undefined && options.peers.length > 0);
  const clusterPort = clustered ? (options.clusterPort ?? (await freePort())) : undefined;
  const clusterAddress = clusterPort === undefined ? undefined : `127.0.0.1:${clusterPort}`;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let url = '';
  const logs = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');

  const kill = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  // A free port can be taken before Alertmanager binds it: retry with another one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const args = [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      `--cluster.listen-address=${clusterAddress ?? ''}`,
    ];
    if (clusterAddress !== undefined) {
      args.push(
        `--cluster.advertise-address=${clusterAddress}`,
        ...(options.peers ?? []).map((peer) => `--cluster.peer=${peer}`),
        `--cluster.peer-timeout=${options.peerTimeout ?? '15s'}`,
        // Short gossip and settle rounds: the cluster is ready in about a second instead of ~6 s.
        '--cluster.gossip-interval=50ms',
        '--cluster.pushpull-interval=1s',
        '--cluster.settle-timeout=5s',
        '--cluster.reconnect-interval=500ms',
      );
    }
    const log = fs.openSync(logFile, 'a');
    const proc = spawn(BIN, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    try {
      await waitFor('/-/ready', async () => {
        if (proc.exitCode !== null) throw new Error(`alertmanager exited with ${proc.exitCode}`);
        return (await fetch(`${url}/-/ready`)).ok;
      });
      break;
    } catch (err) {
      await kill();
      if (attempt >= 3) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new Error(`alertmanager did not become ready: ${(err as Error).message}\n${logs().split('\n').slice(-15).join('\n')}`, { cause: err });
      }
    }
  }

  let stopped = false;
  const api = async <T>(method: string, apiPath: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/api/v2${apiPath}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${apiPath}: HTTP ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    url,
    clusterAddress,
    dir,
    postAlerts: (alerts) => api<void>('POST', '/alerts', alerts),
    alerts: () => api('GET', '/alerts'),
    status: () => api('GET', '/status'),
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    logs,
  };
}

/** n clustered Alertmanagers on loopback, each started with every other member as --cluster.peer. */
export async function startAlertmanagerCluster(
  n: number,
  config: string,
  options: { peerTimeout?: string } = {},
): Promise<AlertmanagerServer[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const members: AlertmanagerServer[] = [];
  try {
    for (const [i, port] of ports.entries()) {
      members.push(
        await startAlertmanager({
          config,
          clusterPort: port,
          peers: ports.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`),
          peerTimeout: options.peerTimeout,
        }),
      );
    }
    // Every member must see all n (itself included) before the test relies on gossip.
    await waitFor('every member to see all peers', async () => {
      for (const member of members) {
        const { cluster } = await member.status();
        if (cluster.status !== 'ready' || (cluster.peers ?? []).length !== n) return false;
      }
      return true;
    }, 20_000);
  } catch (err) {
    await Promise.all(members.map((m) => m.stop()));
    throw err;
  }
  return members;
}

/** Polls until check() holds; an "exited with" error (the process is gone) ends the wait at once. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  await poll(check, (ready) => ready, { what, timeoutMs, fatal: (err) => err instanceof Error && /exited with/.test(err.message) });
}
