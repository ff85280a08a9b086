/**
 * The rules configuration file (rules/config/ai-dispatcher.yml): its schema, and loading it into a
 * RulesConfig with every problem reported at once (ajv for the shape, then the cross-references the
 * schema cannot express: listed models without options, a model twice in one list).
 */
import fs from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import yaml from 'js-yaml';

export const BRANCHES = ['resource_conservation', 'metrics_unavailable', 'queue_management', 'optimal_performance'] as const;
export const COMPLEXITIES = ['low', 'medium', 'high'] as const;
export const TASK_TYPES = ['analysis', 'general'] as const;
/** The priority of the answer when no model of a pair's list is installed and fits. */
export const FALLBACK_PRIORITY = 'no_fitting_model';
/** Thresholds the rules and alerts read: each must be present. Others may be added (ai:threshold:<name>). */
export const REQUIRED_THRESHOLDS = [
  'node_memory_available_bytes',
  'node_cpu_utilisation_ratio',
  'node_load1',
  'ollama_requests_queued',
  'start_max_node_load1',
  'idle_period_seconds',
  'ollama_container_memory_bytes',
  'ollama_request_duration_seconds',
  'model_fit_margin_bytes',
] as const;

export type Branch = (typeof BRANCHES)[number];
export type Complexity = (typeof COMPLEXITIES)[number];
export type TaskType = (typeof TASK_TYPES)[number];

export interface PairList {
  models: string[];
  timeoutSeconds: number;
}
export interface RulesConfig {
  runbookUrlPattern: string;
  thresholds: Record<string, number>;
  models: Record<string, { temperature: number; numPredict: number }>;
  /** branch -> complexity -> task_type -> list */
  recommendation: Record<Branch, Record<Complexity, Record<TaskType, PairList>>>;
  fallback: { model: string; timeoutSeconds: number };
}

/** Ollama model names as `ollama list` shows them (name[:tag], optionally namespace/ or host/). */
const MODEL_NAME = '^[A-Za-z0-9][A-Za-z0-9._/-]*(:[A-Za-z0-9._-]+)?$';
const timeout = { type: 'integer', minimum: 1, maximum: 86400 };
const modelList = { type: 'array', items: { type: 'string', pattern: MODEL_NAME }, minItems: 1, maxItems: 99 };
const pairList = {
  oneOf: [
    modelList,
    {
      type: 'object',
      additionalProperties: false,
      required: ['models'],
      properties: { models: modelList, timeout_seconds: timeout },
    },
  ],
};
const pairs = (keys: readonly string[], value: object) => ({
  type: 'object',
  additionalProperties: false,
  required: [...keys],
  properties: Object.fromEntries(keys.map((k) => [k, value])),
});
const branch = {
  type: 'object',
  additionalProperties: false,
  required: ['timeout_seconds', ...COMPLEXITIES],
  properties: {
    timeout_seconds: timeout,
    ...Object.fromEntries(COMPLEXITIES.map((c) => [c, pairs(TASK_TYPES, pairList)])),
  },
};

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['runbook_url_pattern', 'thresholds', 'models', 'recommendation', 'fallback'],
  properties: {
    runbook_url_pattern: { type: 'string', pattern: '^https?://[^\\s%]+%s[^\\s%]*$' },
    thresholds: {
      type: 'object',
      required: [...REQUIRED_THRESHOLDS],
      properties: Object.fromEntries(REQUIRED_THRESHOLDS.map((k) => [k, { type: 'number' }])),
      propertyNames: { pattern: '^[a-z][a-z0-9_]*$' },
      additionalProperties: { type: 'number' },
    },
    models: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: MODEL_NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['temperature', 'num_predict'],
        properties: {
          temperature: { type: 'number', minimum: 0, maximum: 2 },
          num_predict: { type: 'integer', minimum: 1 },
        },
      },
    },
    recommendation: pairs(BRANCHES, branch),
    fallback: {
      type: 'object',
      additionalProperties: false,
      required: ['model', 'timeout_seconds'],
      properties: { model: { type: 'string', pattern: MODEL_NAME }, timeout_seconds: timeout },
    },
  },
};

/** Every problem found in the file, reported together. */
export class RulesConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid rules configuration ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RulesConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(configSchema);

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replace(/\//g, '.').replace(/~1/g, '/');
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    case 'required':
      return `${where}: missing key "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'oneOf':
      return `${where}: must be a list of model names, or {models: [...], timeout_seconds: N}`;
    case 'propertyNames':
      return `${where}: key "${(e.params as { propertyName: string }).propertyName}" is not allowed`;
    case 'pattern':
      if (e.instancePath === '/runbook_url_pattern') return `${where}: must be an absolute http(s) URL containing %s once (the alert name in lower case)`;
      if (e.schemaPath.includes('propertyNames')) return `${where}: not a valid name`;
      return `${where}: "${String(e.data)}" is not a valid Ollama model name`;
    default:
      return `${where}: ${e.message ?? 'is invalid'}`;
  }
}

function schemaProblems(errors: ErrorObject[]): string[] {
  // A failed oneOf also reports each alternative's complaint at the same place: its own line says it better.
  const oneOfAt = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const lines = new Set<string>();
  for (const e of errors) {
    const insideOneOf = e.schemaPath.includes('/oneOf/') && [...oneOfAt].some((p) => e.instancePath.startsWith(p));
    if (insideOneOf) continue;
    // propertyNames reports the bad name twice (the name's pattern, then propertyNames): keep one.
    if (e.keyword === 'pattern' && e.schemaPath.includes('propertyNames')) continue;
    lines.add(describe(e));
  }
  return [...lines];
}

interface RawList {
  models: string[];
  timeout_seconds?: number;
}
interface RawConfig {
  runbook_url_pattern: string;
  thresholds: Record<string, number>;
  models: Record<string, { temperature: number; num_predict: number }>;
  recommendation: Record<Branch, { timeout_seconds: number } & Record<Complexity, Record<TaskType, string[] | RawList>>>;
  fallback: { model: string; timeout_seconds: number };
}

/** Parses and validates the YAML text of a configuration; throws RulesConfigError listing every problem. */
export function parseRulesConfig(text: string, source = '<inline>'): RulesConfig {
  let raw: unknown;
  try {
    raw = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new RulesConfigError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (!validate(raw)) throw new RulesConfigError(source, schemaProblems(validate.errors ?? []));
  const config = raw as unknown as RawConfig;
  const problems: string[] = [];
  if (config.runbook_url_pattern.split('%s').length !== 2) problems.push('runbook_url_pattern: must contain %s exactly once');
  const known = new Set(Object.keys(config.models));
  const recommendation = {} as RulesConfig['recommendation'];
  for (const b of BRANCHES) {
    recommendation[b] = {} as Record<Complexity, Record<TaskType, PairList>>;
    for (const c of COMPLEXITIES) {
      recommendation[b][c] = {} as Record<TaskType, PairList>;
      for (const t of TASK_TYPES) {
        const entry = config.recommendation[b][c][t];
        const list: PairList = Array.isArray(entry)
          ? { models: entry, timeoutSeconds: config.recommendation[b].timeout_seconds }
          : { models: entry.models, timeoutSeconds: entry.timeout_seconds ?? config.recommendation[b].timeout_seconds };
        const where = `recommendation.${b}.${c}.${t}`;
        for (const m of list.models) if (!known.has(m)) problems.push(`${where}: model "${m}" has no entry under models (its generation options)`);
        const twice = list.models.filter((m, i) => list.models.indexOf(m) !== i);
        for (const m of new Set(twice)) problems.push(`${where}: model "${m}" is listed more than once`);
        recommendation[b][c][t] = list;
      }
    }
  }
  if (!known.has(config.fallback.model)) problems.push(`fallback.model: model "${config.fallback.model}" has no entry under models`);
  if (problems.length > 0) throw new RulesConfigError(source, problems);
  return {
    runbookUrlPattern: config.runbook_url_pattern,
    thresholds: config.thresholds,
    models: Object.fromEntries(
      Object.entries(config.models).map(([m, o]) => [m, { temperature: o.temperature, numPredict: o.num_predict }]),
    ),
    recommendation,
    fallback: { model: config.fallback.model, timeoutSeconds: config.fallback.timeout_seconds },
  };
}

export function loadRulesConfig(file: string): RulesConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RulesConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseRulesConfig(text, file);
}
