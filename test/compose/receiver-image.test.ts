/**
 * receiver/Dockerfile's runtime stage, built and run for real on a private dockerd. No registry is reachable,
 * so the base image is a local stand-in for node:20 (this host's Node 20, see local-node-image.ts) and the
 * build stage is replaced by the outputs it would produce (npm run build, production node_modules); the final
 * stage is taken from receiver/Dockerfile verbatim. The container runs as the compose override runs it
 * (read-only, no capabilities, no-new-privileges): it must come up as uid 1000 and turn healthy by its own
 * HEALTHCHECK command.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { ensureReceiverBuilt } from '../../scripts/harness/build';
import { startDockerEngine, type DockerEngine } from '../../scripts/harness/docker-engine';
import { follow, importLocalNodeImage } from '../../scripts/stack/local-node-image';

const root = path.join(__dirname, '../..');
const IMAGE = 'ai-dispatcher-receiver:test';
let engine: DockerEngine | undefined;
let work: string;

/** The production dependency closure, as `npm prune --omit=dev` leaves it. */
function productionPackages(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
  const tops = new Set<string>();
  for (const p of out.split('\n').map((l) => path.relative(root, l)).filter((l) => l.startsWith('node_modules/'))) {
    const parts = p.split('/');
    tops.add(parts.slice(0, parts[1].startsWith('@') ? 3 : 2).join('/'));
  }
  return [...tops];
}

function finalStage(dockerfile: string): string {
  const lines = dockerfile.split('\n');
  const lastFrom = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0).pop()!;
  return lines.slice(lastFrom).join('\n');
}

beforeAll(async () => {
  ensureReceiverBuilt();
  engine = await startDockerEngine();
  const base = await importLocalNodeImage(engine.docker);

  work = fs.mkdtempSync(path.join(os.tmpdir(), 'receiver-image-'));
  const ctx = path.join(work, 'context');
  const built = path.join(ctx, 'built');
  fs.mkdirSync(built, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(built, 'package.json'));
  fs.cpSync(path.join(root, 'dist/receiver'), path.join(built, 'dist/receiver'), { recursive: true });
  for (const pkg of productionPackages()) fs.cpSync(path.join(root, pkg), path.join(built, pkg), { recursive: true, dereference: true });
  fs.mkdirSync(path.join(ctx, 'receiver'));
  fs.copyFileSync(path.join(root, 'receiver/config.compose.yml'), path.join(ctx, 'receiver/config.compose.yml'));
  const dockerfile = [
    'ARG NODE_IMAGE',
    '# Stands in for the build stage of receiver/Dockerfile: its outputs, built on this host.',
    'FROM ${NODE_IMAGE} AS build',
    'COPY built /src',
    finalStage(fs.readFileSync(path.join(root, 'receiver/Dockerfile'), 'utf8')),
  ].join('\n');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
  const tar = path.join(work, 'context.tar');
  execFileSync('tar', ['-C', ctx, '-cf', tar, '.']);
  const stream = await engine.docker.buildImage(tar, { t: IMAGE, buildargs: { NODE_IMAGE: base } } as object);
  await follow(engine.docker, stream);
}, 180_000);

afterAll(async () => {
  await engine?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('the receiver image (runtime stage of receiver/Dockerfile)', () => {
  it('declares a non-root user, the healthcheck and the receiver command', async () => {
    const info = await engine!.docker.getImage(IMAGE).inspect();
    expect(info.Config.User).toBe('node');
    expect(info.Config.Healthcheck?.Test?.join(' ')).toContain('/healthz');
    expect(info.Config.Entrypoint).toEqual(['node', ...RECEIVER_NODE_FLAGS, 'dist/receiver/src/cli.js']);
    expect(info.Config.Cmd?.[0]).toBe('receiver');
  });

  it('runs read-only without capabilities as uid 1000 and turns healthy by its own healthcheck', async () => {
    const image = await engine!.docker.getImage(IMAGE).inspect();
    const container = await engine!.docker.createContainer({
      Image: IMAGE,
      Env: ['AI_DISPATCHER_TOKEN=image-test-token-0123456789'],
      // The image's own check command; only the interval is shortened for the test.
      Healthcheck: { Test: image.Config.Healthcheck!.Test, Interval: 500_000_000, Timeout: 3_000_000_000, Retries: 3 },
      HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges:true'] },
    });
    try {
      await container.start();
      const deadline = Date.now() + 30_000;
      let state = (await container.inspect()).State;
      while (state.Health?.Status !== 'healthy' && state.Running && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        state = (await container.inspect()).State;
      }
      const logs = (await container.logs({ stdout: true, stderr: true })).toString();
      expect([state.Health?.Status, logs.slice(-2000)]).toEqual(['healthy', expect.stringContaining('receiver listening')]);
      const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${state.Pid}/status`, 'utf8'))?.[1];
      expect(uid).toBe('1000');
    } finally {
      await container.remove({ force: true });
    }
  }, 60_000);
});
