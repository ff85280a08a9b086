/**
 * The Ollama stand-in as a container image, with no registry: the local Node image (this host's node binary
 * and the libraries it links, scripts/stack/local-node-image.ts) plus the stand-in transpiled to JavaScript.
 * It listens on OLLAMA_HOST (run it with the host network), as Ollama does, and exits on SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import ts from 'typescript';
import { follow, importLocalNodeImage } from '../local-node-image';

export const OLLAMA_STAND_IN_IMAGE = 'ai-dispatcher/ollama-stand-in-node:local';

export async function buildOllamaStandInImage(docker: Docker, tag = OLLAMA_STAND_IN_IMAGE): Promise<string> {
  const base = await importLocalNodeImage(docker);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ollama-standin-image-'));
  try {
    fs.mkdirSync(path.join(work, 'app'));
    for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.ts') && f !== 'image.ts')) {
      const js = ts.transpileModule(fs.readFileSync(path.join(__dirname, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      fs.writeFileSync(path.join(work, 'app', file.replace(/\.ts$/, '.js')), js);
    }
    fs.writeFileSync(path.join(work, 'Dockerfile'), [
      `FROM ${base}`,
      'COPY app /app',
      'ENV OLLAMA_HOST=127.0.0.1:11434',
      'USER 1000:1000',
      'CMD ["node", "/app/main.js"]',
      '',
    ].join('\n'));
    const tar = path.join(work, 'context.tar');
    execFileSync('tar', ['-C', work, '-cf', tar, 'Dockerfile', 'app']);
    await follow(docker, await docker.buildImage(tar, { t: tag } as object));
    return tag;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
