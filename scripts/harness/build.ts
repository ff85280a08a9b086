/**
 * The stack runs the compiled receiver (dist/): build it when it is missing or older than its sources.
 * Suites run in parallel workers: a lock directory makes one of them build while the others wait, so no
 * receiver starts from half-written files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '../..');
const lock = path.join(os.tmpdir(), `ai-dispatcher-build-${Buffer.from(root).toString('hex').slice(-16)}.lock`);

function newest(dir: string): number {
  return Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs;
  }));
}

function fresh(): boolean {
  const cli = path.join(root, 'dist/receiver/src/cli.js');
  return fs.existsSync(cli) && fs.statSync(cli).mtimeMs >= newest(path.join(root, 'receiver/src'));
}

export function ensureReceiverBuilt(): void {
  if (fresh()) return;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // Another worker builds; a lock older than two minutes is a leftover of a killed run.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited 120 s for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!fresh()) {
      execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
