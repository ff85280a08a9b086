/** The stack runs the compiled receiver (dist/): build it when it is missing or older than its sources. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../..');

function newest(dir: string): number {
  return Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs;
  }));
}

export function ensureReceiverBuilt(): void {
  const cli = path.join(root, 'dist/receiver/src/cli.js');
  if (fs.existsSync(cli) && fs.statSync(cli).mtimeMs >= newest(path.join(root, 'receiver/src'))) return;
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
