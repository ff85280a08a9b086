/** Loads docker-compose.override.yml the way Compose reads it, for the structural tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export const repoRoot = path.join(__dirname, '../..');
export const overrideFile = path.join(repoRoot, 'docker-compose.override.yml');

/** The raw YAML document, before interpolation (what the schema sees). */
export function loadRaw(): any {
  return yaml.load(readFileSync(overrideFile, 'utf8'));
}

/**
 * Compose's variable interpolation for the forms the file uses: ${VAR}, ${VAR:-default}, $$ (a literal $).
 * Unset variables without default become '' as in Compose.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name: string | undefined, def: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name!];
    return value !== undefined && value !== '' ? value : def ?? '';
  });
}

/** The document after interpolation with the given environment (default: none set). */
export function loadInterpolated(env: Record<string, string | undefined> = {}): any {
  return yaml.load(interpolate(readFileSync(overrideFile, 'utf8'), env));
}

export interface Mount { source: string; target: string; readOnly: boolean }

/** Short-syntax volume strings ("src:dst[:ro]") and long-syntax objects, as one shape. */
export function mountsOf(service: any): Mount[] {
  return (service.volumes ?? []).map((v: any) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      return { source, target, readOnly: (mode ?? '').split(',').includes('ro') };
    }
    return { source: v.source, target: v.target, readOnly: v.read_only === true };
  });
}

/** Service networks, list or map form. */
export function networksOf(service: any): string[] {
  const n = service.networks ?? ['default'];
  return Array.isArray(n) ? n : Object.keys(n);
}

/** `environment` as a map, whichever syntax the file uses. */
export function environmentOf(service: any): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(env.map((line: string) => {
    const i = line.indexOf('=');
    return [line.slice(0, i), line.slice(i + 1)];
  }));
}
