/** `ai-dispatcher socket-proxy-allowlist`: the proxy's allowlist generated from the receiver's targets. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../receiver/src/config/load';
import { AllowlistError, socketProxyAllowlist } from '../../receiver/src/docker/socket-proxy-allowlist';
import { repoRoot } from './compose-file';
import { allows, compileAllowlist } from './socket-proxy-allowlist';

const listFor = (targets: string) => socketProxyAllowlist(parseConfig(`targets: ${targets}`).targets);

it('pins inspect, start and stop to the configured container names, with dots taken literally', () => {
  const env = listFor('{a: {members: [{container: ollama}, {container: my.db}]}, b: {members: [{container: comfy-ui}]}}');
  expect(env).toEqual({
    SP_ALLOW_GET: '/(_ping|containers/(ollama|my\\.db|comfy-ui)/json)',
    SP_ALLOW_POST: '/containers/(ollama|my\\.db|comfy-ui)/(start|stop)',
  });
  const list = compileAllowlist({ ...env });
  expect(allows(list, 'POST', '/containers/my.db/start')).toBe(true);
  expect(allows(list, 'POST', '/containers/myxdb/start')).toBe(false);
  expect(allows(list, 'POST', '/containers/comfy-ui/stop?t=10')).toBe(true);
  expect(allows(list, 'POST', '/v1.23/containers/comfy-ui/start')).toBe(false);
});

it('refuses members it cannot pin, and names Docker could read as an id prefix, saying why', () => {
  let error: unknown;
  try {
    listFor('{a: {members: [{compose: {project: p, service: ollama}}, {swarm_service: s}, {container: cafe01}, {container: ok}]}}');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(AllowlistError);
  expect((error as AllowlistError).problems).toEqual([
    expect.stringContaining('compose service "p/ollama" needs calls a path allowlist cannot pin'),
    expect.stringContaining('swarm service "s"'),
    expect.stringContaining('"cafe01" looks like an id prefix'),
  ]);
});

it('is printed by the CLI in the form the compose file uses', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-cli-'));
  try {
    fs.writeFileSync(path.join(dir, 'c.yml'), 'targets: {t: {members: [{container: ollama}]}}\n');
    const run = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'receiver/src/cli.ts', 'socket-proxy-allowlist', '--config', path.join(dir, 'c.yml')], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe("      SP_ALLOW_GET: '/(_ping|containers/ollama/json)'\n      SP_ALLOW_POST: '/containers/ollama/(start|stop)'\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
