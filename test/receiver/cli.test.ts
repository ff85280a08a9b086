import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCli } from '../../receiver/src/cli';
import { fixtureBytes, withContractLabels } from '../../scripts/harness/alertmanager-fixtures';

const ROOT = path.resolve(__dirname, '../..');

describe('parseCli', () => {
  test.each([
    [['receiver', '--config', 'c.yml'], { command: 'receiver', config: 'c.yml', listen: undefined, dryRun: false }],
    [['receiver', '--config=c.yml', '--listen', '0.0.0.0:9095', '--dry-run'], { command: 'receiver', config: 'c.yml', listen: '0.0.0.0:9095', dryRun: true }],
    [['--help'], 'help'],
    [['--version'], 'version'],
  ])('%j', (argv, expected) => {
    expect(parseCli(argv)).toEqual(expected);
  });

  test.each([
    [[], 'missing command'],
    [['serve', '--config', 'c.yml'], 'unknown command "serve"'],
    [['receiver'], '--config FILE is required'],
    [['receiver', '--config', 'c.yml', '--frobnicate'], "Unknown option '--frobnicate'"],
  ])('%j is refused', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('ai-dispatcher receiver as a process', () => {
  const token = 'cli-test-token-abcdefghij';
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-cli-'));
    fs.writeFileSync(
      path.join(dir, 'config.yml'),
      `docker: {socket_path: ${path.join(dir, 'no-engine.sock')}}\ntargets: {ollama: {members: [{container: ollama}]}}\n`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('starts in dry-run without an engine, serves /healthz and the webhook, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'receiver/src/cli.ts', 'receiver', '--config', path.join(dir, 'config.yml'), '--listen', '127.0.0.1:0', '--dry-run'], {
      cwd: ROOT,
      env: { ...process.env, AI_DISPATCHER_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!/"msg":"receiver listening"/.test(out)) {
        if (Date.now() > deadline) throw new Error(`receiver did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /"url":"(http:\/\/[^"]+)"/.exec(out)![1];
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const res = await fetch(`${url}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start'),
      });
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'action finished', result: 'dry_run', target: 'ollama' }));
    expect(lines.at(-1)).toMatchObject({ msg: 'receiver stopped' });
    expect(out).not.toContain(token);
  }, 60_000);

  test('refuses to start without a token and says why', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'receiver/src/cli.ts', 'receiver', '--config', path.join(dir, 'config.yml')], {
      cwd: ROOT,
      env: { ...process.env, AI_DISPATCHER_TOKEN: '', AI_DISPATCHER_TOKEN_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('no token is set');
  }, 60_000);
});
