/** <dir>/stack.json: where the running stack is, for stack:down, the curl examples of scripts/README.md and tests. */
import fs from 'node:fs';
import path from 'node:path';
import type { Timings } from './config';

export interface StackState {
  dir: string;
  fast: boolean;
  timings: Timings;
  dryRun: boolean;
  dockerHost?: string;
  container: string;
  urls: { prometheus: string; alertmanager: string; receiver: string; nodeExporter: string; standInExporter: string; ollama: string; gateway: string };
  tokenFile: string;
}

export function writeStackState(state: StackState): void {
  fs.writeFileSync(path.join(state.dir, 'stack.json'), JSON.stringify(state, null, 2) + '\n');
}

export function readStackState(dir: string): StackState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'stack.json'), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}
