/**
 * `ai-dispatcher gateway` as users run it (the built dist/receiver/src/cli.js): refuses a bad configuration
 * with the reasons, listens, proxies and serves /metrics, refuses a wake without a token, stops on SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureReceiverBuilt } from '../../scripts/harness/build';
import { freePort } from '../../scripts/harness/free-port';
import { CLI } from '../../scripts/harness/receiver-process';
import { readUntil, postJson, request, startStandIn, type RunningStandIn } from './harness';

let dir: string;
let standIn: RunningStandIn;

beforeAll(async () => {
  ensureReceiverBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-cli-'));
  standIn = await startStandIn();
});

afterAll(async () => {
  await standIn.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.AI_DISPATCHER_TOKEN;
  delete e.AI_DISPATCHER_TOKEN_FILE;
  return e;
};

test('a bad configuration: exit code 1 and every reason; wake without a token is refused', () => {
  fs.writeFileSync(path.join(dir, 'bad.yml'), 'admission: {max_queue: -1}\nbogus: true\n');
  const bad = spawnSync(process.execPath, [CLI, 'gateway', '--config', path.join(dir, 'bad.yml')], { encoding: 'utf8', env: env() });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain('/admission/max_queue: must be >= 0');
  expect(bad.stderr).toContain('unknown key "bogus"');
  fs.writeFileSync(path.join(dir, 'wake.yml'), 'wake: {receiver_url: "http://127.0.0.1:9095"}\n');
  const noToken = spawnSync(process.execPath, [CLI, 'gateway', '--config', path.join(dir, 'wake.yml')], { encoding: 'utf8', env: env() });
  expect(noToken.status).toBe(1);
  expect(noToken.stderr).toMatch(/wake: auth is enabled but no token is set/);
});

test('listens, proxies, serves /metrics with process metrics, and stops on SIGTERM', async () => {
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'ok.yml'), `upstream: {url: "${standIn.url}"}\n`);
  const child = spawn(process.execPath, [CLI, 'gateway', '--config', path.join(dir, 'ok.yml'), '--listen', `127.0.0.1:${port}`], { env: env() });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const url = `http://127.0.0.1:${port}`;
    await readUntil(() => request(url, { method: 'GET', path: '/api/version' }).then((r) => r.status, () => 0), (s) => s === 200, 15_000);
    expect((await postJson(url, '/api/generate', { model: 'phi3:mini', prompt: 'x', stream: false })).status).toBe(200);
    const metrics = (await request(url, { method: 'GET', path: '/metrics' })).body;
    expect(metrics).toMatch(/^ollama_requests_total\{model="phi3:mini",endpoint="\/api\/generate",outcome="success"\} 1$/m);
    expect(metrics).toContain('process_resident_memory_bytes');
    expect(JSON.parse(out.split('\n')[0])).toMatchObject({ level: 'info', msg: 'gateway listening', url, wake: 'off' });
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(out).toContain('"msg":"gateway stopped"');
});
