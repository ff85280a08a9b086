/**
 * Docker for the local stack: is an engine reachable (DOCKER_HOST or the default socket), a private dockerd
 * on request, and the Ollama stand-in container the receiver starts and stops (no registry here, so its
 * image is built from this host's node binary: scripts/stack/ollama-standin/image.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { parseDockerHost } from '../../receiver/src/docker/dockerode-controller';
import { privateDockerdArgs } from '../harness/dockerd';
import { buildOllamaStandInImage } from './ollama-standin/image';
import { spawnDetached, type PidRecord, sleep, isOurs } from './processes';

export const STAND_IN_IMAGE = 'ai-dispatcher/ollama-stand-in-node:stack';
const STACK_LABEL = 'io.ai-dispatcher.stack';
const KIND_LABEL = 'io.ai-dispatcher.stand-in';

export function dockerClient(host: string): Docker {
  const o = parseDockerHost(host);
  return o.socketPath ? new Docker({ socketPath: o.socketPath }) : new Docker({ host: o.host, port: o.port, protocol: o.protocol });
}

export async function reachable(host: string, timeoutMs = 2000): Promise<boolean> {
  try {
    await Promise.race([dockerClient(host).ping(), sleep(timeoutMs).then(() => { throw new Error('timeout'); })]);
    return true;
  } catch {
    return false;
  }
}

/** DOCKER_HOST when set, else the default socket when it exists. */
export function configuredDockerHost(env = process.env): string | undefined {
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  return fs.existsSync('/var/run/docker.sock') ? 'unix:///var/run/docker.sock' : undefined;
}

/**
 * A dockerd of the stack's own (--private-docker): data under <dir>/docker, its exec root under the
 * system temp dir (unix socket paths must stay short). Stopped by stack:down like the other processes.
 */
export async function startPrivateDockerd(dir: string): Promise<{ host: string; record: PidRecord }> {
  const base = path.join(dir, 'docker');
  fs.mkdirSync(base, { recursive: true });
  const execRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'aid-stack-'));
  const socket = path.join(base, 'docker.sock');
  const record = spawnDetached(dir, 'dockerd', 'dockerd',
    privateDockerdArgs({ dataRoot: path.join(base, 'data'), execRoot, pidfile: path.join(base, 'dockerd.pid'), socketPath: socket }));
  const host = `unix://${socket}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isOurs(record)) throw new Error('dockerd exited while starting');
    if (await reachable(host, 1000)) return { host, record };
    await sleep(100);
  }
  throw new Error('dockerd did not answer /_ping within 30 s');
}

/**
 * The container the stack's receiver manages: the Ollama stand-in (scripts/stack/ollama-standin/, Ollama's
 * API on 127.0.0.1:port with the host network), created stopped when missing. An existing container of that
 * name is reused as it is, except one an older stack created from the busybox stand-in, which is replaced.
 */
/** args: the stand-in's options (e.g. --load-ms 8000) for a container created here. */
export async function ensureStandInContainer(docker: Docker, name: string, port: number, args: string[] = []): Promise<{ created: boolean; port: number }> {
  try {
    const info = await docker.getContainer(name).inspect();
    const labels = info.Config.Labels ?? {};
    if (labels[STACK_LABEL] !== 'ollama-stand-in' || labels[KIND_LABEL] === 'node') {
      // The port it listens on: OLLAMA_HOST=127.0.0.1:PORT (node stand-in), PORT=N (busybox, a test's own).
      const env = info.Config.Env ?? [];
      const ollamaHost = env.find((e) => e.startsWith('OLLAMA_HOST='));
      const legacy = env.find((e) => e.startsWith('PORT='));
      const found = ollamaHost ? ollamaHost.slice(ollamaHost.lastIndexOf(':') + 1) : legacy?.slice('PORT='.length);
      return { created: false, port: found ? Number(found) : port };
    }
    await docker.getContainer(name).remove({ force: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const images = await docker.listImages({ filters: { reference: [STAND_IN_IMAGE] } });
  if (images.length === 0) await buildOllamaStandInImage(docker, STAND_IN_IMAGE);
  await docker.createContainer({
    name, Image: STAND_IN_IMAGE, Env: [`OLLAMA_HOST=127.0.0.1:${port}`], StopTimeout: 5,
    ...(args.length > 0 && { Cmd: ['node', '/app/main.js', ...args] }),
    Labels: { [STACK_LABEL]: 'ollama-stand-in', [KIND_LABEL]: 'node' },
    HostConfig: { NetworkMode: 'host' },
  });
  return { created: true, port };
}

/** Removes the stand-in container, but only one the stack created (it carries the stack's label). */
export async function removeStandInContainer(docker: Docker, name: string): Promise<boolean> {
  try {
    const info = await docker.getContainer(name).inspect();
    if (info.Config.Labels?.[STACK_LABEL] !== 'ollama-stand-in') return false;
    await docker.getContainer(name).remove({ force: true });
    return true;
  } catch {
    return false;
  }
}
