/**
 * JSON schema of the YAML configuration file (snake_case keys, as in Prometheus and Alertmanager configs).
 * Defaults live here so that ajv's useDefaults fills them in; load.ts turns the result into ReceiverConfig.
 */
export const OLLAMA_TAGS_URL = 'http://127.0.0.1:11434/api/tags';

/**
 * Every duration has a maximum: Node clamps a timer above 2,147,483.647 s to 1 ms (a refresh interval of
 * 3,000,000 s would refresh continuously). The maxima are what a user can mean, far below that.
 */
export const MAX_TIMER_SECONDS = 2_147_483;
const HOUR = 3600;
const DAY = 86_400;
const WEEK = 7 * DAY;
const positiveSeconds = (maximum: number) => ({ type: 'number', exclusiveMinimum: 0, maximum }) as const;
const nonNegativeSeconds = (maximum: number) => ({ type: 'number', minimum: 0, maximum }) as const;
const name = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' } as const;

const member = {
  type: 'object',
  oneOf: [
    {
      properties: { container: name },
      required: ['container'],
      additionalProperties: false,
    },
    {
      properties: {
        compose: {
          type: 'object',
          properties: { project: name, service: name },
          required: ['project', 'service'],
          additionalProperties: false,
        },
      },
      required: ['compose'],
      additionalProperties: false,
    },
    {
      // A Docker Swarm service: started = scaled to `replicas` (default 1), stopped = scaled to 0.
      properties: {
        swarm_service: name,
        replicas: { type: 'integer', minimum: 1, maximum: 100 },
      },
      required: ['swarm_service'],
      additionalProperties: false,
    },
  ],
} as const;

const readiness = {
  type: 'object',
  properties: {
    type: { enum: ['http', 'docker_health', 'running'], default: 'http' },
    url: { type: 'string', format: 'uri', pattern: '^https?://', default: OLLAMA_TAGS_URL },
    timeout_seconds: { ...positiveSeconds(DAY), default: 60 },
    interval_seconds: { ...positiveSeconds(HOUR), default: 0.5 },
    probe_timeout_seconds: { ...positiveSeconds(HOUR), default: 2 },
  },
  additionalProperties: false,
  default: {},
} as const;

const target = {
  type: 'object',
  properties: {
    members: { type: 'array', minItems: 1, maxItems: 32, items: member },
    readiness,
    min_running_seconds: { ...nonNegativeSeconds(WEEK), default: 600 },
    cooldown_seconds: { ...nonNegativeSeconds(WEEK), default: 60 },
    stop_timeout_seconds: { type: 'integer', minimum: 0, maximum: HOUR, default: 10 },
  },
  required: ['members'],
  additionalProperties: false,
} as const;

export const configSchema = {
  type: 'object',
  properties: {
    listen: {
      type: 'string',
      pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
      default: '127.0.0.1:9095',
    },
    auth: {
      type: 'object',
      properties: {
        disabled: { type: 'boolean', default: false },
        basic_username: { type: 'string', minLength: 1 },
      },
      additionalProperties: false,
      default: {},
    },
    docker: {
      type: 'object',
      properties: {
        socket_path: { type: 'string', minLength: 1 },
        host: { type: 'string', pattern: '^(unix|tcp|http|https)://' },
        timeout_seconds: { ...positiveSeconds(HOUR), default: 5 },
      },
      additionalProperties: false,
      default: {},
    },
    webhook: {
      type: 'object',
      properties: {
        body_limit_bytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 },
        dedupe_window_seconds: { ...nonNegativeSeconds(DAY), default: 120 },
        resolved: { enum: ['ignore', 'reverse'], default: 'ignore' },
      },
      additionalProperties: false,
      default: {},
    },
    refresh_interval_seconds: { ...positiveSeconds(DAY), default: 15 },
    shutdown_timeout_seconds: { ...nonNegativeSeconds(HOUR), default: 10 },
    wake_timeout_seconds: { ...positiveSeconds(DAY), default: 120 },
    targets: {
      type: 'object',
      minProperties: 1,
      propertyNames: name,
      additionalProperties: target,
      default: {
        ollama: { members: [{ container: 'ollama' }, { container: 'sqlite-ai' }] },
      },
    },
  },
  additionalProperties: false,
} as const;
