/**
 * docker/skip-buildkit.ts puts a stand-in for dockerode's BuildKit session module into Node's require cache
 * (main.ts imports it before dockerode), so that gRPC and protobufjs are not loaded: the receiver never builds
 * images. This checks that it still applies to the installed dockerode. It runs in a child node process: jest's
 * own module registry does not go through require.cache.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

/** Loads dockerode in a fresh node (after skip-buildkit.ts when asked) and reports what got loaded. */
function loadDockerode(withStub: boolean): { sessionModule: string; grpcModules: number; buildError: string | null } {
  const script = `
    ${withStub ? "require('./receiver/src/docker/skip-buildkit');" : ''}
    const Docker = require('dockerode');
    const sessionModule = require.resolve('dockerode/lib/session.js');
    const grpcModules = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](@grpc|protobufjs)[\\\\/]/.test(k)).length;
    // A BuildKit build (version "2") is the one path that opens a session: with the stand-in it fails at once
    // with its message, which also shows that dockerode's own reference to the module is the stand-in.
    let buildError = null;
    try {
      new Docker({ socketPath: '/nonexistent/docker.sock' }).buildImage({ context: '.', src: [] }, { version: '2' }, () => {});
    } catch (err) {
      buildError = err.message;
    }
    process.stdout.write(JSON.stringify({ sessionModule: require('path').relative(process.cwd(), sessionModule), grpcModules, buildError }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, encoding: 'utf8' }));
}

it('the installed dockerode still loads gRPC for BuildKit sessions from lib/session.js (what the stand-in replaces)', () => {
  const plain = loadDockerode(false);
  expect(plain.sessionModule).toBe(path.join('node_modules', 'dockerode', 'lib', 'session.js'));
  expect(plain.grpcModules).toBeGreaterThan(0);
  expect(plain.buildError).toBeNull();
});

it('with skip-buildkit.ts first, dockerode gets the stand-in: no gRPC or protobufjs loaded, a BuildKit build fails clearly', () => {
  const stubbed = loadDockerode(true);
  expect(stubbed.grpcModules).toBe(0);
  expect(stubbed.buildError).toBe('BuildKit sessions are not loaded in ai-dispatcher (it never builds images)');
});
