/**
 * Docker for the local stack: is an engine reachable (DOCKER_HOST or the default socket), a private dockerd
 * on request, and the Ollama stand-in container the receiver starts and stops (no registry here, so its
 * image is built from Debian's busybox-static with `docker import`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { parseDockerHost } from '../../receiver/src/docker/dockerode-controller';
import { spawnDetached, type PidRecord, sleep, isOurs } from './processes';

export const STAND_IN_IMAGE = 'ai-dispatcher/ollama-stand-in:stack';

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
  const record = spawnDetached(dir, 'dockerd', 'dockerd', [
    '--data-root', path.join(base, 'data'), '--exec-root', execRoot, '--pidfile', path.join(base, 'dockerd.pid'),
    '--host', `unix://${socket}`, '--storage-driver=overlay2', '--iptables=false', '--ip6tables=false', '--bridge=none',
  ]);
  const host = `unix://${socket}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isOurs(record)) throw new Error('dockerd exited while starting');
    if (await reachable(host, 1000)) return { host, record };
    await sleep(100);
  }
  throw new Error('dockerd did not answer /_ping within 30 s');
}

const STAND_IN_SCRIPT = [
  'trap "exit 0" TERM INT',
  'mkdir -p /tmp/www/api',
  `echo '{"models":[{"name":"phi3:mini","model":"phi3:mini","size":1}]}' > /tmp/www/api/tags`,
  'busybox httpd -f -p "127.0.0.1:$PORT" -h /tmp/www &',
  'wait $!',
].join('\n');

async function buildStandInImage(docker: Docker): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aid-standin-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    for (const d of ['bin', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'mkdir', 'echo']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
    const tar = path.join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
    const stream = await docker.importImage(tar, {
      repo: STAND_IN_IMAGE.split(':')[0], tag: STAND_IN_IMAGE.split(':')[1],
      changes: ['ENV PATH=/bin PORT=11434', `CMD ["/bin/busybox", "sh", "-c", ${JSON.stringify(STAND_IN_SCRIPT)}]`],
    });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      if (failed) reject(new Error(`importing the stand-in image failed: ${failed}`));
      else resolve();
    }));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The container the stack's receiver manages: created stopped when missing (host network, Ollama's
 * /api/tags on 127.0.0.1:port). An existing container of that name is reused as it is.
 */
export async function ensureStandInContainer(docker: Docker, name: string, port: number): Promise<{ created: boolean; port: number }> {
  try {
    const info = await docker.getContainer(name).inspect();
    const env = (info.Config.Env ?? []).find((e) => e.startsWith('PORT='));
    return { created: false, port: env ? Number(env.slice(5)) : port };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const images = await docker.listImages({ filters: { reference: [STAND_IN_IMAGE] } });
  if (images.length === 0) await buildStandInImage(docker);
  await docker.createContainer({
    name, Image: STAND_IN_IMAGE, Env: [`PORT=${port}`], StopTimeout: 5,
    Labels: { 'io.ai-dispatcher.stack': 'ollama-stand-in' },
    HostConfig: { NetworkMode: 'host' },
  });
  return { created: true, port };
}

/** Removes the stand-in container, but only one the stack created (it carries the stack's label). */
export async function removeStandInContainer(docker: Docker, name: string): Promise<boolean> {
  try {
    const info = await docker.getContainer(name).inspect();
    if (info.Config.Labels?.['io.ai-dispatcher.stack'] !== 'ollama-stand-in') return false;
    await docker.getContainer(name).remove({ force: true });
    return true;
  } catch {
    return false;
  }
}
