/**
 * The whole local stack (scripts/stack/up.ts) for a benchmark run: fast mode, a private dockerd, free ports,
 * the Ollama stand-in as the managed container, in a temp dir of its own.
 *
 *   const result = await withBenchStack('loop-bench-', () => ({ container: 'ollama-bench', shortPeriods }), async (stack) => {
 *     ...   // measure against stack.urls, stack.dockerHost
 *   });
 *
 * `options(dir)` may prepare files in the dir first (e.g. a rules copy). If anything throws, the stack's start-up
 * log is printed; in every case the stack is taken down and the dir removed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down } from '../stack/down';
import type { StackState } from '../stack/state';
import { up, type UpOptions } from '../stack/up';

type BenchStackOptions = Omit<UpOptions, 'dir' | 'log' | 'fast' | 'dryRun' | 'privateDocker' | 'anyPorts' | 'standInNode'>;

export async function withBenchStack<T>(
  tempPrefix: string,
  options: (dir: string) => BenchStackOptions,
  use: (stack: StackState) => Promise<T>,
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tempPrefix));
  const log: string[] = [];
  try {
    const stack = await up({
      ...options(dir), dir, fast: true, dryRun: false, privateDocker: true, anyPorts: true, standInNode: true, log: (l) => log.push(l),
    });
    return await use(stack);
  } catch (err) {
    console.error(log.join('\n'));
    throw err;
  } finally {
    await down(dir, () => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
