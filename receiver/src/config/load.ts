import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { ConfigError } from './config-error';
import { didYouMean } from './did-you-mean';
import { configSchema } from './schema';
import { proxyTargetProblems } from './self-targets';
import type { ContainerRef, ReadinessConfig, ReceiverConfig, TargetConfig } from './types';
import { parseYamlDocument, readConfigText } from './yaml-file';

// verbose: each error carries its parent schema, whose properties are the known keys for a "did you mean".
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
addFormats(ajv);
const validate = ajv.compile(configSchema);

export function loadConfigFile(file: string): ReceiverConfig {
  return parseConfig(readConfigText(file), file);
}

/** Parses YAML text, validates it against the schema (all errors at once) and fills in defaults. */
export function parseConfig(text: string, source = '<inline>'): ReceiverConfig {
  const raw = parseYamlDocument(text, source);
  if (!validate(raw)) {
    throw new ConfigError(source, formatErrors(validate.errors ?? []), authDisabledIn(raw));
  }
  const errors: string[] = [];
  const config = normalize(raw as RawConfig, errors);
  if (errors.length > 0) throw new ConfigError(source, errors, config.auth.disabled);
  return config;
}

function authDisabledIn(raw: unknown): boolean {
  const auth = (raw as { auth?: unknown } | null)?.auth;
  return typeof auth === 'object' && auth !== null && (auth as { disabled?: unknown }).disabled === true;
}

function formatErrors(errors: ErrorObject[]): string[] {
  const lines = new Set<string>();
  // A failed oneOf also reports each branch's complaint at the same place; its summary line says it better.
  const oneOfAt = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (oneOfAt.has(e.instancePath) && e.keyword !== 'oneOf' && e.schemaPath.includes('/oneOf/')) continue;
    const where = e.instancePath === '' ? '(top level)' : e.instancePath;
    let detail = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const suggestion = didYouMean(key, Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}));
      detail = `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    }
    if (e.keyword === 'enum') detail = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    if (e.keyword === 'oneOf') detail = 'must be one of {container: NAME}, {compose: {project, service}}, {swarm_service: NAME, replicas: N}';
    if (e.keyword === 'propertyNames') detail = `target name "${(e.params as { propertyName: string }).propertyName}" is not allowed`;
    lines.add(`${where}: ${detail}`);
  }
  return [...lines];
}

interface RawReadiness {
  type: 'http' | 'docker_health' | 'running';
  url: string;
  timeout_seconds: number;
  interval_seconds: number;
  probe_timeout_seconds: number;
}
interface RawTarget {
  members: Array<{ container: string } | { compose: { project: string; service: string } } | { swarm_service: string; replicas?: number }>;
  readiness: RawReadiness;
  min_running_seconds: number;
  cooldown_seconds: number;
  stop_timeout_seconds: number;
}
interface RawConfig {
  listen: string;
  auth: { disabled: boolean; basic_username?: string };
  docker: { socket_path?: string; host?: string; timeout_seconds: number };
  webhook: { body_limit_bytes: number; dedupe_window_seconds: number; resolved: 'ignore' | 'reverse' };
  refresh_interval_seconds: number;
  shutdown_timeout_seconds: number;
  wake_timeout_seconds: number;
  targets: Record<string, RawTarget>;
}

export function parseListen(value: string): { host: string; port: number } | undefined {
  const at = value.lastIndexOf(':');
  if (at <= 0) return undefined;
  let host = value.slice(0, at);
  const port = Number(value.slice(at + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || value.slice(at + 1) === '') return undefined;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

function normalize(raw: RawConfig, errors: string[]): ReceiverConfig {
  const listen = parseListen(raw.listen);
  if (!listen) errors.push(`/listen: "${raw.listen}" is not HOST:PORT with a port from 0 to 65535`);
  if (raw.docker.host !== undefined && raw.docker.socket_path !== undefined) {
    errors.push('/docker: set either socket_path or host, not both');
  }

  const targets = new Map<string, TargetConfig>();
  const owner = new Map<string, string>();
  for (const [name, t] of Object.entries(raw.targets)) {
    const members = t.members.map(toRef);
    for (const [i, ref] of members.entries()) {
      // A swarm service belongs to one group whatever its replica count.
      const key = JSON.stringify(ref.kind === 'swarm' ? { kind: ref.kind, service: ref.service } : ref);
      const previous = owner.get(key);
      if (previous !== undefined) {
        errors.push(`/targets/${name}/members/${i}: already a member of "${previous}" (a container belongs to one group)`);
      }
      owner.set(key, name);
    }
    targets.set(name, {
      name,
      members,
      readiness: toReadiness(t.readiness),
      minRunningSeconds: t.min_running_seconds,
      cooldownSeconds: t.cooldown_seconds,
      stopTimeoutSeconds: t.stop_timeout_seconds,
    });
  }
  errors.push(...proxyTargetProblems(targets.values(), raw.docker.host));

  return {
    listen: listen ?? { host: '127.0.0.1', port: 0 },
    auth: { disabled: raw.auth.disabled, basicUsername: raw.auth.basic_username },
    docker: { socketPath: raw.docker.socket_path, host: raw.docker.host, timeoutSeconds: raw.docker.timeout_seconds },
    webhook: {
      bodyLimitBytes: raw.webhook.body_limit_bytes,
      dedupeWindowSeconds: raw.webhook.dedupe_window_seconds,
      resolved: raw.webhook.resolved,
    },
    refreshIntervalSeconds: raw.refresh_interval_seconds,
    shutdownTimeoutSeconds: raw.shutdown_timeout_seconds,
    wakeTimeoutSeconds: raw.wake_timeout_seconds,
    targets,
  };
}

function toRef(m: RawTarget['members'][number]): ContainerRef {
  if ('swarm_service' in m) return { kind: 'swarm', service: m.swarm_service, replicas: m.replicas ?? 1 };
  return 'container' in m
    ? { kind: 'container', name: m.container }
    : { kind: 'compose', project: m.compose.project, service: m.compose.service };
}

function toReadiness(r: RawReadiness): ReadinessConfig {
  switch (r.type) {
    case 'http':
      return {
        type: 'http',
        url: r.url,
        timeoutSeconds: r.timeout_seconds,
        intervalSeconds: r.interval_seconds,
        probeTimeoutSeconds: r.probe_timeout_seconds,
      };
    case 'docker_health':
      return { type: 'docker_health', timeoutSeconds: r.timeout_seconds, intervalSeconds: r.interval_seconds };
    case 'running':
      return { type: 'running' };
  }
}
