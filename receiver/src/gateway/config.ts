import Ajv, { type ErrorObject } from 'ajv';
import { ConfigError } from '../config/config-error';
import { parseListen } from '../config/load';
import { parseYamlDocument, readConfigText } from '../config/yaml-file';
import { gatewayConfigSchema } from './config-schema';

export interface GatewayConfig {
  listen: { host: string; port: number };
  upstream: { url: URL; connectTimeoutMs: number };
  admission: { maxConcurrent: number; maxQueue: number; holdTimeoutMs: number; retryAfterSeconds: number };
  limits: { bodyLimitBytes: number; headerTimeoutMs: number; bodyTimeoutMs: number };
  poll: { intervalMs: number; timeoutMs: number };
  /** Absent: no wake; an unreachable Ollama answers 503 at once. */
  wake?: { receiverUrl: string; target: string; timeoutMs: number };
  metrics: { maxModels: number };
  /** Absent: no model is loaded ahead of the first request. */
  preload?: { prometheusUrl: string; pairs: Array<{ complexity: string; taskType: string }>; keepAlive: string | number; timeoutMs: number };
}

interface RawGatewayConfig {
  listen: string;
  upstream: { url: string; connect_timeout_seconds: number };
  admission: { max_concurrent: number; max_queue: number; hold_timeout_seconds: number; retry_after_seconds: number };
  limits: { body_limit_bytes: number; header_timeout_seconds: number; body_timeout_seconds: number };
  poll: { interval_seconds: number; timeout_seconds: number };
  wake?: { receiver_url: string; target: string; timeout_seconds: number };
  metrics: { max_models: number };
  preload?: { prometheus_url: string; pairs: Array<{ complexity: string; task_type: string }>; keep_alive: string | number; timeout_seconds: number };
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validate = ajv.compile(gatewayConfigSchema);

export function loadGatewayConfigFile(file: string): GatewayConfig {
  return parseGatewayConfig(readConfigText(file), file);
}

/** Parses YAML, validates it (every error at once) and fills in the defaults. */
export function parseGatewayConfig(text: string, source = '<inline>'): GatewayConfig {
  const raw = parseYamlDocument(text, source);
  if (!validate(raw)) throw new ConfigError(source, formatErrors(validate.errors ?? []));
  const r = raw as RawGatewayConfig;
  const errors: string[] = [];
  const listen = parseListen(r.listen);
  if (!listen) errors.push(`/listen: "${r.listen}" is not HOST:PORT with a port from 0 to 65535`);
  let upstream: URL | undefined;
  try {
    upstream = new URL(r.upstream.url);
  } catch {
    errors.push(`/upstream/url: "${r.upstream.url}" is not a URL`);
  }
  if (r.wake && r.wake.timeout_seconds > r.admission.hold_timeout_seconds) {
    errors.push('/wake/timeout_seconds: must not be longer than /admission/hold_timeout_seconds (a held request is answered by then)');
  }
  if (errors.length > 0) throw new ConfigError(source, errors);
  return {
    listen: listen!,
    upstream: { url: upstream!, connectTimeoutMs: r.upstream.connect_timeout_seconds * 1000 },
    admission: {
      maxConcurrent: r.admission.max_concurrent,
      maxQueue: r.admission.max_queue,
      holdTimeoutMs: r.admission.hold_timeout_seconds * 1000,
      retryAfterSeconds: r.admission.retry_after_seconds,
    },
    limits: {
      bodyLimitBytes: r.limits.body_limit_bytes,
      headerTimeoutMs: r.limits.header_timeout_seconds * 1000,
      bodyTimeoutMs: r.limits.body_timeout_seconds * 1000,
    },
    poll: { intervalMs: r.poll.interval_seconds * 1000, timeoutMs: r.poll.timeout_seconds * 1000 },
    wake: r.wake && { receiverUrl: r.wake.receiver_url.replace(/\/+$/, ''), target: r.wake.target, timeoutMs: r.wake.timeout_seconds * 1000 },
    preload: r.preload && {
      prometheusUrl: r.preload.prometheus_url.replace(/\/+$/, ''),
      pairs: r.preload.pairs.map((p) => ({ complexity: p.complexity, taskType: p.task_type })),
      keepAlive: r.preload.keep_alive,
      timeoutMs: r.preload.timeout_seconds * 1000,
    },
    metrics: { maxModels: r.metrics.max_models },
  };
}

function formatErrors(errors: ErrorObject[]): string[] {
  return [...new Set(errors.map((e) => {
    const where = e.instancePath === '' ? '(top level)' : e.instancePath;
    if (e.keyword === 'additionalProperties') return `${where}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    return `${where}: ${e.message ?? 'is invalid'}`;
  }))];
}
