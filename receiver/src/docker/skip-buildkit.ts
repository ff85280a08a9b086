/**
 * dockerode loads gRPC and protobufjs at require time for BuildKit sessions (image builds), which the receiver
 * never uses: about 6 MB of resident memory. Imported by main.ts before dockerode, this puts a stand-in for that
 * one module into the require cache. Anything that would build an image gets a clear error instead.
 * test/receiver/docker/skip-buildkit.test.ts checks that it still applies to the installed dockerode.
 */
import Module from 'node:module';

function skipBuildkitSessions(): void {
  let sessionModule: string;
  try {
    sessionModule = require.resolve('dockerode/lib/session.js');
  } catch {
    return; // another dockerode layout: load it as it is
  }
  if (require.cache[sessionModule] !== undefined) return;
  const stub = new Module(sessionModule);
  stub.filename = sessionModule;
  stub.loaded = true;
  stub.exports = function withSession(): never {
    throw new Error('BuildKit sessions are not loaded in ai-dispatcher (it never builds images)');
  };
  require.cache[sessionModule] = stub;
}

skipBuildkitSessions();
