/**
 * The receiver runs with the same V8 flags however it is launched (the benchmarks measured it so).
 * The image's entrypoint is checked in test/compose (receiver-dockerfile and, on the built image, receiver-image).
 */
import fs from 'node:fs';
import path from 'node:path';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** The words between "node" and the script in a command line. */
function flagsBefore(script: string, words: string[]): string[] {
  const node = words.indexOf('node');
  const at = words.findIndex((w) => w.endsWith(script));
  if (node < 0 || at < node) throw new Error(`no "node ... ${script}" in: ${words.join(' ')}`);
  return words.slice(node + 1, at);
}

it('npm run receiver passes the flags', () => {
  const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.receiver;
  expect(flagsBefore('cli.js', script.split('&&').pop()!.trim().split(/\s+/))).toEqual(RECEIVER_NODE_FLAGS);
});

it('the installed ai-dispatcher command (cli.js shebang) passes the flags', () => {
  const shebang = read('receiver/src/cli.ts').split('\n')[0];
  expect(shebang.startsWith('#!/usr/bin/env -S node')).toBe(true);
  expect(shebang.split(/\s+/).slice(3)).toEqual(RECEIVER_NODE_FLAGS);
});

it('the local stack and the test helper spawn the receiver with the flags', () => {
  for (const file of ['scripts/stack/up.ts', 'test/support/receiver-process.ts', 'scripts/bench/receiver-throughput.ts']) {
    expect({ file, spreads: /\[\s*\.\.\.RECEIVER_NODE_FLAGS\b/.test(read(file)) }).toEqual({ file, spreads: true });
  }
});
