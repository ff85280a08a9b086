import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StartupError } from '../../receiver/src/config/startup-error';
import { startReceiver } from '../../receiver/src/main';
import { readToken } from '../../receiver/src/token';

describe('readToken', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-token-'));
    fs.writeFileSync(path.join(dir, 'token'), 'from-a-file-0123456789\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['from AI_DISPATCHER_TOKEN', { AI_DISPATCHER_TOKEN: 'direct-token-0123456789' }, false, 'direct-token-0123456789', []],
    ['from AI_DISPATCHER_TOKEN_FILE, trailing newline removed', { AI_DISPATCHER_TOKEN_FILE: 'token' }, false, 'from-a-file-0123456789', []],
    ['none while auth is on', {}, false, undefined, [expect.stringContaining('no token is set')]],
    ['none while auth is disabled', {}, true, undefined, []],
    ['both set', { AI_DISPATCHER_TOKEN: 'direct-token-0123456789', AI_DISPATCHER_TOKEN_FILE: 'token' }, false, undefined, [expect.stringContaining('not both')]],
    ['an unreadable file', { AI_DISPATCHER_TOKEN_FILE: 'missing' }, false, undefined, [expect.stringContaining('ENOENT')]],
    ['too short', { AI_DISPATCHER_TOKEN: 'short' }, false, undefined, [expect.stringContaining('too short')]],
  ])('%s', (_name, env, disabled, token, errors) => {
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, k === 'AI_DISPATCHER_TOKEN_FILE' ? path.join(dir, v) : v]),
    );
    const result = readToken(resolved, disabled);
    expect(result.token).toBe(token);
    expect(result.errors).toEqual(errors);
  });
});

describe('startReceiver', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-main-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('listens where --listen says, answers /healthz, warns when auth is disabled, and stops', async () => {
    const lines: string[] = [];
    const running = await startReceiver({
      configPath: write('ok.yml', `auth: {disabled: true}\ndocker: {socket_path: ${dir}/none.sock}\n`),
      listen: '127.0.0.1:0',
      dryRun: true,
      env: {},
      write: (l) => lines.push(l),
    });
    try {
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      expect(metrics).toMatch(/ai_dispatcher_build_info\{version="\d+\.\d+\.\d+",node_version="v\d+/);
      expect(metrics).toContain('process_resident_memory_bytes');
    } finally {
      await running.stop();
    }
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringContaining('authentication is disabled') }));
    expect(parsed.at(-1)).toMatchObject({ msg: 'receiver stopped' });
  });

  test('--listen and environment problems of a valid config file are reported together, each under its source', async () => {
    const file = write('env.yml', 'docker: {host: "tcp://127.0.0.1:2375"}\n');
    const failure = await startReceiver({ configPath: file, listen: 'nowhere', env: { AI_DISPATCHER_TOKEN: 'x' } }).catch((e) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as StartupError).problems).toEqual([
      { source: '--listen', errors: ['"nowhere" is not HOST:PORT'] },
      { source: 'environment', errors: [expect.stringMatching(/^AI_DISPATCHER_TOKEN: .*too short/)] },
    ]);
    expect((failure as Error).message).not.toContain(file);
  });

  test('an invalid config file, a bad --listen and a missing token are listed together; the token problem names the environment', async () => {
    const file = write('bad.yml', 'targets: {ollama: {members: [{container: ollama}], min_runing_seconds: 5}}\n');
    const failure = await startReceiver({ configPath: file, listen: 'nowhere', env: {} }).catch((e) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as StartupError).problems).toEqual([
      { source: `configuration file ${file}`, errors: ['/targets/ollama: unknown key "min_runing_seconds" (did you mean "min_running_seconds"?)'] },
      { source: '--listen', errors: ['"nowhere" is not HOST:PORT'] },
      { source: 'environment', errors: [expect.stringContaining('no token is set: set AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE')] },
    ]);
    expect((failure as Error).message).toBe([
      'cannot start: 3 problems',
      `  configuration file ${file}:`,
      '    - /targets/ollama: unknown key "min_runing_seconds" (did you mean "min_running_seconds"?)',
      '  --listen:',
      '    - "nowhere" is not HOST:PORT',
      '  environment:',
      `    - ${(failure as StartupError).problems[2].errors[0]}`,
    ].join('\n'));
  });

  test('an invalid config file that disables auth: no token problem is made up', async () => {
    const file = write('noauth.yml', 'auth: {disabled: true}\nlisten: 9095\n');
    const failure = await startReceiver({ configPath: file, env: {} }).catch((e) => e);
    expect((failure as StartupError).problems).toEqual([{ source: `configuration file ${file}`, errors: ['/listen: must be string'] }]);
  });

  test('a bad DOCKER_HOST is an environment problem', async () => {
    const file = write('docker-env.yml', 'auth: {disabled: true}\n');
    const failure = await startReceiver({ configPath: file, env: { DOCKER_HOST: 'nonsense' } }).catch((e) => e);
    expect((failure as StartupError).problems).toEqual([
      { source: 'environment', errors: ['DOCKER_HOST: Docker host "nonsense" is neither unix:///path nor tcp://host:port'] },
    ]);
  });
});
