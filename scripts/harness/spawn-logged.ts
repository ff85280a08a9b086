import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Starts a process with its stdout and stderr appended to <dir>/<name>.log (read it when the process misbehaves). */
export function spawnLogged(dir: string, name: string, command: string, argv: string[]): ChildProcess {
  const out = fs.openSync(path.join(dir, `${name}.log`), 'a');
  const child = spawn(command, argv, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return child;
}
