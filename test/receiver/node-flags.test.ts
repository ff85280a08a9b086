/**
 * The receiver runs with the same V8 flags however it is launched (the benchmarks measured it so). They are
 * defined once (receiver/src/node-flags.ts); the launchers that cannot import them are written by
 * scripts/node-flags.ts. The image's entrypoint is also checked in test/compose (receiver-dockerfile and, on the
 * built image, receiver-image).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { LAUNCHERS, launchersOutOfDate } from '../../scripts/node-flags';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

it('the shebang, npm run receiver and the image entrypoint carry the flags (npx tsx scripts/node-flags.ts --check)', () => {
  expect(launchersOutOfDate()).toEqual([]);
  expect(read('receiver/src/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${RECEIVER_NODE_FLAGS.join(' ')}`);
  const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.receiver;
  expect(script).toContain(`node ${RECEIVER_NODE_FLAGS.join(' ')} dist/receiver/src/cli.js receiver`);
});

it('writes other flags into every launcher, and finds a launcher that differs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-flags-'));
  try {
    for (const { file } of LAUNCHERS) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    }
    const other = ['--max-semi-space-size=8'];
    expect(launchersOutOfDate(dir, other)).toEqual(LAUNCHERS.map((l) => l.file));
    for (const { file, write } of LAUNCHERS) {
      const full = path.join(dir, file);
      fs.writeFileSync(full, write(fs.readFileSync(full, 'utf8'), other));
    }
    expect(launchersOutOfDate(dir, other)).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'receiver/src/cli.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=8');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).scripts.receiver).toBe(
      'npm run -s build && node --max-semi-space-size=8 dist/receiver/src/cli.js receiver',
    );
    expect(fs.readFileSync(path.join(dir, 'receiver/Dockerfile'), 'utf8')).toContain(
      '\nENTRYPOINT ["node", "--max-semi-space-size=8", "dist/receiver/src/cli.js"]\n',
    );
    // Only the launcher lines changed.
    expect(fs.readFileSync(path.join(dir, 'receiver/Dockerfile'), 'utf8').split('\n').length).toBe(read('receiver/Dockerfile').split('\n').length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('says so when a launcher is no longer where it is looked for', () => {
  const dockerfile = LAUNCHERS.find((l) => l.file === 'receiver/Dockerfile')!;
  expect(() => dockerfile.write('FROM node:20\nCMD ["node", "x.js"]\n', RECEIVER_NODE_FLAGS)).toThrow(/receiver\/Dockerfile: no launcher matching/);
});
