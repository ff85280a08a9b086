/**
 * A stand-in for the `node:20-bookworm-slim` base image, which no registry here can provide: this host's
 * Node 20 binary with the shared libraries it links, busybox, and a `node` user (uid 1000) as in the official
 * image. Imported into a test engine, it lets the receiver's runtime stage really be built and run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';

export const LOCAL_NODE_IMAGE = 'ai-dispatcher-test/node:20-local';

function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return out.split('\n')
    .map((line) => /(\/\S+) \(0x/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
}

export async function importLocalNodeImage(docker: Docker): Promise<string> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'node-image-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    const put = (from: string, to = from) => {
      const dest = path.join(rootfs, to);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(fs.realpathSync(from), dest);
      fs.chmodSync(dest, 0o755);
    };
    put(process.execPath, '/usr/local/bin/node');
    for (const lib of sharedLibraries(process.execPath)) put(lib);
    put('/bin/busybox', '/bin/busybox');
    fs.symlinkSync('busybox', path.join(rootfs, 'bin/sh'));
    fs.mkdirSync(path.join(rootfs, 'etc'));
    fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
    fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
    fs.mkdirSync(path.join(rootfs, 'home/node'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'tmp'), { mode: 0o1777 });
    fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
    const tar = path.join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
    const [repo, tag] = LOCAL_NODE_IMAGE.split(':');
    const stream = await docker.importImage(tar, { repo, tag, changes: ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'CMD ["node"]'] });
    await follow(docker, stream);
    return LOCAL_NODE_IMAGE;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<Array<{ stream?: string; error?: string }>> {
  return new Promise((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, events: Array<{ stream?: string; error?: string }>) => {
    const failed = err?.message ?? events.find((e) => e.error)?.error;
    if (failed) reject(new Error(`${failed}\n${events.map((e) => e.stream ?? '').join('')}`));
    else resolve(events);
  }));
}
