/**
 * Issue 15: the token file. Bounded reading (AI_DISPATCHER_TOKEN_FILE=/dev/zero used to hang the start), a
 * warning for a file every user of the host can read, and *.token kept out of git.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startReceiver } from '../../receiver/src/main';
import { MAX_TOKEN_FILE_BYTES, readToken } from '../../receiver/src/token';

const TOKEN = 'file-token-0123456789abcdef';
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-file-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, text: string, mode: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

test.each([
  ['/dev/zero', () => '/dev/zero', 'is not a regular file'],
  ['a FIFO nobody writes to', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    return fifo;
  }, 'is not a regular file'],
  ['a directory', () => dir, 'is not a regular file'],
  ['a file over the cap', () => tokenFile('big', 'x'.repeat(MAX_TOKEN_FILE_BYTES + 1), 0o600), `larger than ${MAX_TOKEN_FILE_BYTES} bytes`],
])('%s is refused at once, not read', (_name, make, message) => {
  const result = readToken({ AI_DISPATCHER_TOKEN_FILE: make() }, false);
  expect(result.token).toBeUndefined();
  expect(result.errors).toEqual([expect.stringContaining(message)]);
});

test('a file at the cap is read', () => {
  const file = tokenFile('at-cap', `${'y'.repeat(MAX_TOKEN_FILE_BYTES - 1)}\n`, 0o600);
  expect(readToken({ AI_DISPATCHER_TOKEN_FILE: file }, false)).toEqual({ token: 'y'.repeat(MAX_TOKEN_FILE_BYTES - 1), errors: [], warnings: [] });
});

test.each([
  [0o600, []],
  [0o640, []],
  [0o644, [expect.stringMatching(/can be read by every user of the host \(mode 0644\): chmod 0640 or 0600/)]],
  [0o604, [expect.stringContaining('(mode 0604)')]],
])('mode %o: warnings %j', (mode, warnings) => {
  const file = tokenFile(`mode-${mode.toString(8)}`, `${TOKEN}\n`, mode);
  expect(readToken({ AI_DISPATCHER_TOKEN_FILE: file }, false)).toEqual({ token: TOKEN, errors: [], warnings });
});

test('the receiver logs the warning at start and still starts', async () => {
  const file = tokenFile('world', `${TOKEN}\n`, 0o644);
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, `docker: {socket_path: ${path.join(dir, 'no-engine.sock')}}\ntargets: {ollama: {members: [{container: ollama}]}}\n`);
  const lines: string[] = [];
  const running = await startReceiver({ configPath: config, listen: '127.0.0.1:0', env: { AI_DISPATCHER_TOKEN_FILE: file }, write: (l) => lines.push(l) });
  try {
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringContaining(`${file} can be read by every user`) }));
  } finally {
    await running.stop();
  }
});

test('*.token files are ignored by git', () => {
  const root = path.resolve(__dirname, '../..');
  const check = spawnSync('git', ['check-ignore', 'ai-dispatcher.token', 'receiver/other.token', 'receiver/config.compose.yml'], { cwd: root, encoding: 'utf8' });
  expect(check.stdout.split('\n').filter(Boolean)).toEqual(['ai-dispatcher.token', 'receiver/other.token']);
});
