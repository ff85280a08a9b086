/** The Ollama stand-in image (scripts/stack/ollama-standin/image.ts), built once per test engine. */
import { buildOllamaStandInImage as build } from '../stack/ollama-standin/image';
import type { DockerEngine } from './docker-engine';

const builds = new WeakMap<DockerEngine, Promise<string>>();

export function buildOllamaStandInImage(engine: DockerEngine): Promise<string> {
  let image = builds.get(engine);
  if (!image) {
    image = build(engine.docker);
    builds.set(engine, image);
  }
  return image;
}
