import fs from 'node:fs';
import yaml from 'js-yaml';
import { ConfigError } from './config-error';

/** A configuration file's text, or a ConfigError that names the file. */
export function readConfigText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
}

/** YAML in the core schema (no timestamps, no custom tags); an empty document is an empty mapping. */
export function parseYamlDocument(text: string, source: string): unknown {
  let raw: unknown;
  try {
    raw = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new ConfigError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  return raw === undefined || raw === null ? {} : raw;
}
