/**
 * JSON schema of the gateway's YAML configuration (snake_case keys, as the receiver's). Defaults live here
 * so that ajv's useDefaults fills them in; config.ts turns the result into GatewayConfig.
 */
const positiveSeconds = { type: 'number', exclusiveMinimum: 0 } as const;

export const gatewayConfigSchema = {
  type: 'object',
  properties: {
    listen: { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$', default: '127.0.0.1:11435' },
    upstream: {
      type: 'object',
      properties: {
        url: { type: 'string', pattern: '^http://[^/?#]+/?$', default: 'http://127.0.0.1:11434' },
        connect_timeout_seconds: { ...positiveSeconds, maximum: 60, default: 5 },
      },
      additionalProperties: false,
      default: {},
    },
    admission: {
      type: 'object',
      properties: {
        // OLLAMA_NUM_PARALLEL: Ollama runs this many requests at once; the gateway forwards no more.
        max_concurrent: { type: 'integer', minimum: 1, maximum: 1024, default: 1 },
        // OLLAMA_MAX_QUEUE: requests held beyond max_concurrent; more get 503.
        max_queue: { type: 'integer', minimum: 0, maximum: 100000, default: 512 },
        // How long a request may be held (queue + wake) before its answer starts: below n8n's 300 s.
        hold_timeout_seconds: { ...positiveSeconds, maximum: 3600, default: 280 },
        retry_after_seconds: { type: 'integer', minimum: 1, maximum: 3600, default: 5 },
      },
      additionalProperties: false,
      default: {},
    },
    limits: {
      type: 'object',
      properties: {
        // Base64 images make generation bodies large: 64 MiB by default.
        body_limit_bytes: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024, default: 64 * 1024 * 1024 },
        header_timeout_seconds: { ...positiveSeconds, maximum: 600, default: 30 },
        body_timeout_seconds: { ...positiveSeconds, maximum: 3600, default: 60 },
      },
      additionalProperties: false,
      default: {},
    },
    poll: {
      type: 'object',
      properties: {
        interval_seconds: { ...positiveSeconds, maximum: 3600, default: 5 },
        timeout_seconds: { ...positiveSeconds, maximum: 60, default: 2 },
      },
      additionalProperties: false,
      default: {},
    },
    wake: {
      type: 'object',
      properties: {
        receiver_url: { type: 'string', pattern: '^https?://[^?#]+$' },
        target: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128, default: 'ollama' },
        timeout_seconds: { ...positiveSeconds, maximum: 3600, default: 120 },
      },
      required: ['receiver_url'],
      additionalProperties: false,
    },
    // After Ollama comes up, load the model recommended now for these pairs (Prometheus's answer).
    preload: {
      type: 'object',
      properties: {
        prometheus_url: { type: 'string', pattern: '^https?://[^?#]+$' },
        pairs: {
          type: 'array',
          minItems: 1,
          maxItems: 64,
          items: {
            type: 'object',
            properties: {
              complexity: { type: 'string', pattern: '^[a-z_]{1,32}$' },
              task_type: { type: 'string', pattern: '^[a-z_]{1,32}$' },
            },
            required: ['complexity', 'task_type'],
            additionalProperties: false,
          },
        },
        // Ollama's keep_alive: "30m", "1h", "-1" (for good), or seconds.
        keep_alive: { anyOf: [{ type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?(ms|s|m|h)?$' }, { type: 'number' }], default: '30m' },
        // A 7B model from a slow disk can take minutes to load.
        timeout_seconds: { ...positiveSeconds, maximum: 3600, default: 300 },
      },
      required: ['prometheus_url', 'pairs'],
      additionalProperties: false,
    },
    metrics: {
      type: 'object',
      properties: {
        // Distinct model label values from requests (installed models always get their own); more are "other".
        max_models: { type: 'integer', minimum: 1, maximum: 10000, default: 64 },
      },
      additionalProperties: false,
      default: {},
    },
  },
  additionalProperties: false,
} as const;
