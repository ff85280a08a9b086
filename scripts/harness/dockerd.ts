/**
 * How this project runs a dockerd of its own, for the live tests (docker-engine.ts) and the local stack's
 * --private-docker (scripts/stack/docker.ts): its own data, exec root, pidfile and unix socket, and no
 * iptables, ip6tables or default bridge, so it leaves the host's network as it was (containers use the host
 * network). And the mounts it leaves behind under its exec root (netns bind mounts), to unmount after it exited.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export function privateDockerdArgs(paths: { dataRoot: string; execRoot: string; pidfile: string; socketPath: string }): string[] {
  return [
    '--data-root', paths.dataRoot,
    '--exec-root', paths.execRoot,
    '--pidfile', paths.pidfile,
    '--host', `unix://${paths.socketPath}`,
    '--storage-driver=overlay2',
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
  ];
}

/** Lazily unmounts every mount point below dir, deepest first. */
export function unmountUnder(dir: string): void {
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p]);
}
