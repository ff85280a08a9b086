/**
 * The receiver's V8 flags are defined once, in receiver/src/node-flags.ts; the TypeScript launchers (the local
 * stack, the test harness, the benchmarks) import them. Three launchers cannot import anything: the cli.js
 * shebang (the installed `ai-dispatcher` command), `npm run receiver` and the image's ENTRYPOINT. This script
 * writes the flags into those three:
 *   npx tsx scripts/node-flags.ts           rewrite them from receiver/src/node-flags.ts
 *   npx tsx scripts/node-flags.ts --check   only say which one differs (exit 1); the unit tests run the same check
 * NODE_OPTIONS cannot carry them instead: Node 20 refuses --single-threaded-gc there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RECEIVER_NODE_FLAGS } from '../receiver/src/node-flags';

const ROOT = path.resolve(__dirname, '..');
const CLI = 'dist/receiver/src/cli.js';

interface Launcher {
  file: string;
  /** The file's text with the flags written in; throws when the launcher is not where it is expected. */
  write(text: string, flags: readonly string[]): string;
}

function replaceOnce(file: string, text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new Error(`${file}: no launcher matching ${pattern} (was it restructured? update scripts/node-flags.ts)`);
  return text.replace(pattern, replacement);
}

export const LAUNCHERS: readonly Launcher[] = [
  {
    file: 'receiver/src/cli.ts',
    write: (text, flags) => replaceOnce('receiver/src/cli.ts', text, /^#!\/usr\/bin\/env -S node\b.*$/m, ['#!/usr/bin/env -S node', ...flags].join(' ')),
  },
  {
    file: 'package.json',
    write: (text, flags) =>
      replaceOnce('package.json', text, /("receiver": "[^"\n]*?\bnode )(?:--[^\s"]+ )*(dist\/receiver\/src\/cli\.js\b)/, `$1${flags.map((f) => `${f} `).join('')}$2`),
  },
  {
    file: 'receiver/Dockerfile',
    write: (text, flags) =>
      replaceOnce('receiver/Dockerfile', text, /^ENTRYPOINT \[.*\]$/m, `ENTRYPOINT ${JSON.stringify(['node', ...flags, CLI]).replace(/","/g, '", "')}`),
  },
];

/** The launchers whose text differs from what the flags make of it. */
export function launchersOutOfDate(root = ROOT, flags: readonly string[] = RECEIVER_NODE_FLAGS): string[] {
  return LAUNCHERS.filter(({ file, write }) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    return write(text, flags) !== text;
  }).map(({ file }) => file);
}

function main(argv: string[]): number {
  const stale = launchersOutOfDate();
  if (argv.includes('--check')) {
    for (const file of stale) process.stderr.write(`${file}: V8 flags differ from receiver/src/node-flags.ts (run: npx tsx scripts/node-flags.ts)\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const { file, write } of LAUNCHERS.filter((l) => stale.includes(l.file))) {
    const full = path.join(ROOT, file);
    fs.writeFileSync(full, write(fs.readFileSync(full, 'utf8'), RECEIVER_NODE_FLAGS));
    process.stdout.write(`${file}: flags written\n`);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
