/**
 * The Ollama stand-in (scripts/stack/ollama-standin/) as a container image for a test engine: the local Node
 * image (this host's node binary, test/compose/local-node-image.ts) plus the stand-in transpiled to
 * JavaScript. It listens on OLLAMA_HOST (host network), as Ollama does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { follow, importLocalNodeImage } from '../compose/local-node-image';
import type { DockerEngine } from './docker-engine';

export const OLLAMA_STAND_IN_IMAGE = 'ai-dispatcher-test/ollama-stand-in-node:local';
const SOURCE = path.join(__dirname, '../../scripts/stack/ollama-standin');

const builds = new WeakMap<DockerEngine, Promise<string>>();

export function buildOllamaStandInImage(engine: DockerEngine): Promise<string> {
  let build = builds.get(engine);
  if (!build) {
    build = importImage(engine);
    builds.set(engine, build);
  }
  return build;
}

async function importImage(engine: DockerEngine): Promise<string> {
  const base = await importLocalNodeImage(engine.docker);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ollama-standin-image-'));
  try {
    fs.mkdirSync(path.join(work, 'app'));
    for (const file of fs.readdirSync(SOURCE).filter((f) => f.endsWith('.ts'))) {
      const js = ts.transpileModule(fs.readFileSync(path.join(SOURCE, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      fs.writeFileSync(path.join(work, 'app', file.replace(/\.ts$/, '.js')), js);
    }
    fs.writeFileSync(path.join(work, 'Dockerfile'), [
      `FROM ${base}`,
      'COPY app /app',
      'ENV OLLAMA_HOST=127.0.0.1:11434',
      'USER 1000:1000',
      // As PID 1, node gets SIGTERM from docker stop; main.js exits on it.
      'CMD ["node", "/app/main.js"]',
      '',
    ].join('\n'));
    const tar = path.join(work, 'context.tar');
    execFileSync('tar', ['-C', work, '--exclude=context.tar', '-cf', tar, 'Dockerfile', 'app']);
    const stream = await engine.docker.buildImage(tar, { t: OLLAMA_STAND_IN_IMAGE } as object);
    await follow(engine.docker, stream);
    return OLLAMA_STAND_IN_IMAGE;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
