/**
 * The stack's pid records stop only the processes the stack started. On a busy machine a dead process's pid
 * is soon given to a new process, often of the same program (every service here is `node`): stack:down of one
 * stack must never stop a process of another.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isOurs, spawnDetached, stopRecords, type PidRecord } from '../../scripts/stack/processes';

let dir: string;
const started: PidRecord[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-pids-'));
});

afterEach(async () => {
  await stopRecords(dir, started.splice(0), 2000);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a record knows its process by pid, program and start time', () => {
  const record = spawnDetached(dir, 'sleeper', 'sleep', ['60']);
  started.push(record);
  expect(record.startTicks).toEqual(expect.any(Number));
  expect(isOurs(record)).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'pids', 'sleeper.json'), 'utf8'))).toEqual(record);
});

test('a record of an earlier process whose pid a new process of the same program now has is not ours, and is not stopped', async () => {
  const running = spawnDetached(dir, 'sleeper', 'sleep', ['60']);
  started.push(running);
  const earlier: PidRecord = { ...running, name: 'earlier', startTicks: running.startTicks! - 100 };

  expect(isOurs(earlier)).toBe(false);
  expect(await stopRecords(dir, [earlier], 2000)).toEqual([]);
  expect(alive(running.pid)).toBe(true);
  expect(isOurs(running)).toBe(true);
});

test('stopRecords stops a process of ours and forgets its record', async () => {
  const record = spawnDetached(dir, 'sleeper', 'sleep', ['60']);
  const lines: string[] = [];
  expect(await stopRecords(dir, [record], 2000, (l) => lines.push(l))).toEqual([]);
  expect(isOurs(record)).toBe(false);
  expect(fs.existsSync(path.join(dir, 'pids', 'sleeper.json'))).toBe(false);
  expect(lines).toEqual([`stopped sleeper (pid ${record.pid})`]);
});

test('a program whose name has spaces and parentheses is still read right', () => {
  // /proc/PID/stat puts the name in parentheses unescaped: the fields are found after the last ") ".
  const odd = path.join(dir, 'x) (y z');
  fs.symlinkSync(fs.realpathSync('/bin/sleep'), odd);
  const record = spawnDetached(dir, 'odd', odd, ['60']);
  started.push(record);
  expect(isOurs(record)).toBe(true);
  expect(isOurs({ ...record, startTicks: record.startTicks! + 1 })).toBe(false);
});
