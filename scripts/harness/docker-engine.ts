/**
 * Live-test helpers: a private dockerd per test suite, and a local image that stands in for Ollama.
 *
 *   const engine = await startDockerEngine();            // beforeAll; dockerd on engine.socketPath
 *   await createStandInContainer(engine, { name: 'ollama', port, start: true });
 *   await waitForStandIn(port);                           // GET /api/tags answers 200
 *   await engine.stop();                                  // afterAll; waits for exit, removes engine.dir
 *
 * API
 * - startDockerEngine(options?) -> DockerEngine
 *     options.env: extra environment for dockerd (e.g. { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' } for Swarm)
 *     options.extraArgs: extra dockerd flags
 *     options.netns: run dockerd in this network namespace (made with `ip netns add NAME`; `nsenter --net` execs, so the
 *       pid is dockerd's): its bridges and iptables rules stay there (e.g. --iptables=true without touching the host)
 *   DockerEngine:
 *     dir         temp dir holding data/, exec/, dockerd.pid, dockerd.log and the socket
 *     socketPath  the engine's unix socket; host = `unix://${socketPath}` (for the docker CLI: `docker -H`)
 *     docker      a dockerode client on that socket, for test setup
 *     stop()      SIGTERM dockerd, wait for it to exit (SIGKILL after 20 s), unmount leftovers, remove dir
 *     restart()   stop dockerd keeping its data (containers survive, stopped), start it again, wait for /_ping
 *     halt()      stop dockerd keeping its data, socket gone (the engine is "down"); resume with restart()
 *     freeze() / thaw()   SIGSTOP / SIGCONT dockerd: calls then hang instead of failing (timeout tests)
 *     running()   whether the dockerd process is alive
 *   If the test process exits without stop() (a killed run), its dockerds still get SIGTERM (temp dir stays).
 * - buildStandInImage(engine, tag = STAND_IN_IMAGE) -> tag. Imports a busybox rootfs (docker import
 *     equivalent); cached per engine and tag. Its command serves /www on 127.0.0.1:$PORT with busybox
 *     httpd (GET /api/tags answers an Ollama-like model list), after $READY_DELAY seconds (default 0),
 *     and exits 0 on SIGTERM.
 * - createStandInContainer(engine, { name, port?, labels?, healthcheck?, readyDelaySeconds?, start? })
 *     -> { id, name, port }. port: a free one unless given. Network mode host (reach it on 127.0.0.1:port); healthcheck: true adds a Docker
 *     healthcheck (wget /api/tags every 500 ms); start: true starts it too.
 * - waitForStandIn(port, timeoutMs = 10000): resolves once GET /api/tags answers 200, rejects on timeout.
 * - standInAnswers(port): one GET /api/tags; true on 200.
 * - containerRunning(engine, id): whether Docker reports the container running.
 */
import { ChildProcess, spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { privateDockerdArgs, unmountUnder } from './dockerd';
import { freePort } from './free-port';

const execFileAsync = promisify(execFile);

export const STAND_IN_IMAGE = 'ai-dispatcher/ollama-stand-in:test';
const BUSYBOX = '/bin/busybox';
const PING_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 20_000;

export interface StartDockerEngineOptions {
  env?: Record<string, string>;
  extraArgs?: string[];
  netns?: string;
}

export interface DockerEngine {
  dir: string;
  socketPath: string;
  host: string;
  docker: Docker;
  stop(): Promise<void>;
  restart(): Promise<void>;
  halt(): Promise<void>;
  freeze(): void;
  thaw(): void;
  running(): boolean;
}

/** Safety net: a test process that exits without stop() (killed run, crashed afterAll) still signals its daemons. */
const liveDaemons = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of liveDaemons) {
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
  }
});

export async function startDockerEngine(options: StartDockerEngineOptions = {}): Promise<DockerEngine> {
  // Short prefix: unix socket paths (ours and containerd's under exec/) must stay under 108 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dkr-'));
  const socketPath = path.join(dir, 'docker.sock');
  const args = [
    ...privateDockerdArgs({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), pidfile: path.join(dir, 'dockerd.pid'), socketPath }),
    ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
    const [command, ...prefix] = options.netns ? ['nsenter', `--net=/var/run/netns/${options.netns}`, 'dockerd'] : ['dockerd'];
    const proc = spawn(command!, [...prefix, ...args], {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...options.env },
    });
    fs.closeSync(log);
    child = proc;
    liveDaemons.add(proc);
    let spawnError: Error | undefined;
    exited = new Promise((resolve) => {
      const gone = () => {
        liveDaemons.delete(proc);
        resolve();
      };
      proc.once('exit', gone);
      proc.once('error', (error) => {
        spawnError = error;
        gone();
      });
    });
    try {
      await waitForPing(socketPath, proc, dir, () => spawnError);
    } catch (error) {
      await terminate();
      throw error;
    }
  };

  const terminate = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.pid === undefined || !liveDaemons.has(proc)) return;
    proc.kill('SIGCONT'); // in case it was frozen
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    killContainerdLeftover(dir);
  };

  try {
    await launch();
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const docker = new Docker({ socketPath });
  let stopped = false;

  return {
    dir,
    socketPath,
    host: `unix://${socketPath}`,
    docker,
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
      unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate();
      await launch();
    },
    async halt() {
      await terminate();
    },
    freeze() {
      if (!child?.pid) return;
      child.kill('SIGSTOP');
      waitUntilStopped(child.pid);
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    running() {
      return child !== undefined && liveDaemons.has(child);
    },
  };
}

async function waitForPing(socketPath: string, proc: ChildProcess, dir: string, spawnError: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + PING_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const failed = spawnError();
    if (failed) throw new Error(`cannot run dockerd (${failed.message}); scripts/install-deps.sh installs docker.io`);
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`dockerd exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${logTail(dir)}`);
    }
    if (await pingOnce(socketPath)) return;
    await sleep(50);
  }
  throw new Error(`dockerd did not answer /_ping within ${PING_TIMEOUT_MS} ms:\n${logTail(dir)}`);
}

function pingOnce(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function logTail(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no dockerd.log)';
  }
}

/**
 * dockerd normally stops its containerd; after a SIGKILL it may not have. The pid file may be stale and its
 * pid another process's by now: only a containerd running from this engine's dir is killed.
 */
function killContainerdLeftover(dir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').trim());
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (pid > 0 && path.basename(argv[0]) === 'containerd' && argv.some((a) => a.startsWith(`${dir}/`))) process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file or no such process: nothing left over
  }
}

const imageBuilds = new WeakMap<DockerEngine, Map<string, Promise<string>>>();

export function buildStandInImage(engine: DockerEngine, tag: string = STAND_IN_IMAGE): Promise<string> {
  let builds = imageBuilds.get(engine);
  if (!builds) {
    builds = new Map();
    imageBuilds.set(engine, builds);
  }
  let build = builds.get(tag);
  if (!build) {
    build = importStandIn(engine, tag);
    build.catch(() => builds!.delete(tag));
    builds.set(tag, build);
  }
  return build;
}

const STAND_IN_SCRIPT = `#!/bin/sh
trap 'exit 0' TERM INT
if [ "\${READY_DELAY:-0}" != "0" ]; then sleep "$READY_DELAY" & wait $!; fi
httpd -f -p "127.0.0.1:\${PORT:-11434}" -h /www &
wait $!
`;

const TAGS_BODY = JSON.stringify({
  models: [
    {
      name: 'stand-in:latest',
      model: 'stand-in:latest',
      modified_at: '2026-11-25T00:00:00Z',
      size: 1,
      digest: 'stand-in',
      details: { format: 'gguf', family: 'stand-in', parameter_size: '0B', quantization_level: 'none' },
    },
  ],
});

async function importStandIn(engine: DockerEngine, tag: string): Promise<string> {
  const tarPath = await standInRootfsTar(engine.dir);
  const [repo, version] = splitTag(tag);
  const stream = await engine.docker.importImage(tarPath, {
    repo,
    tag: version,
    changes: ['CMD ["/standin.sh"]', 'ENV PORT=11434 READY_DELAY=0'],
  });
  await new Promise<void>((resolve, reject) => {
    engine.docker.modem.followProgress(stream, (error: Error | null, events: Array<{ error?: string }>) => {
      const failed = error ?? events.find((event) => event.error);
      if (failed) reject(new Error(`importing ${tag} failed: ${error?.message ?? (failed as { error: string }).error}`));
      else resolve();
    });
  });
  return tag;
}

function splitTag(tag: string): [string, string] {
  const colon = tag.lastIndexOf(':');
  return colon > tag.lastIndexOf('/') ? [tag.slice(0, colon), tag.slice(colon + 1)] : [tag, 'latest'];
}

async function standInRootfsTar(into: string): Promise<string> {
  const rootfs = path.join(into, 'stand-in-rootfs');
  const tarPath = path.join(into, 'stand-in-rootfs.tar');
  if (fs.existsSync(tarPath)) return tarPath;
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const { stdout } = await execFileAsync(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((name) => name && name !== 'busybox')) {
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  }
  for (const sub of ['tmp', 'etc', 'proc', 'sys', 'dev', 'www/api']) fs.mkdirSync(path.join(rootfs, sub), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'www', 'api', 'tags'), TAGS_BODY);
  fs.writeFileSync(path.join(rootfs, 'www', 'api', 'version'), JSON.stringify({ version: '0.0.0-stand-in' }));
  fs.writeFileSync(path.join(rootfs, 'standin.sh'), STAND_IN_SCRIPT, { mode: 0o755 });
  await execFileAsync('tar', ['-C', rootfs, '-cf', tarPath, '.']);
  fs.rmSync(rootfs, { recursive: true, force: true });
  return tarPath;
}

export interface StandInOptions {
  name: string;
  /** Default: a free port. */
  port?: number;
  labels?: Record<string, string>;
  healthcheck?: boolean;
  readyDelaySeconds?: number;
  start?: boolean;
}

export async function createStandInContainer(
  engine: DockerEngine,
  options: StandInOptions,
): Promise<{ id: string; name: string; port: number }> {
  const port = options.port ?? (await freePort());
  const image = await buildStandInImage(engine);
  const container = await engine.docker.createContainer({
    name: options.name,
    Image: image,
    Env: [`PORT=${port}`, `READY_DELAY=${options.readyDelaySeconds ?? 0}`],
    Labels: options.labels ?? {},
    StopTimeout: 5,
    Healthcheck: options.healthcheck
      ? {
          Test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}/api/tags`],
          Interval: 500_000_000,
          Timeout: 1_000_000_000,
          Retries: 3,
          StartPeriod: 0,
        }
      : undefined,
    HostConfig: { NetworkMode: 'host' },
  });
  if (options.start) await container.start();
  return { id: container.id, name: options.name, port };
}

/** Whether Docker reports the container running. */
export async function containerRunning(engine: DockerEngine, id: string): Promise<boolean> {
  return (await engine.docker.getContainer(id).inspect()).State.Running;
}

export function standInAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/tags', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function waitForStandIn(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await standInAnswers(port)) return;
    await sleep(50);
  }
  throw new Error(`stand-in on port ${port} did not answer /api/tags within ${timeoutMs} ms`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * SIGSTOP takes effect thread by thread: on a busy machine a dockerd thread that is running can still
 * answer a request for a moment. Wait (up to 2 s) until every thread of the process is stopped.
 */
function waitUntilStopped(pid: number): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    let threads: string[];
    try {
      threads = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // gone: nothing left to answer
    }
    const allStopped = threads.every((tid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return /^[tT]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
      } catch {
        return true; // thread exited
      }
    });
    if (allStopped) return;
    Atomics.wait(pause, 0, 0, 5);
  }
  throw new Error(`dockerd (pid ${pid}) did not stop within 2 s of SIGSTOP`);
}
