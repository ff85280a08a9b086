import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { MAX_PRELOAD_MODELS, MODEL_NAME, PRELOAD_RESULTS, type PreloadRound } from '../preload-report';

/**
 * The body of POST /api/v1/targets/NAME/preloads: the round's end time and, per model, its result. A model
 * name is checked as the gateway checks it before it reaches Ollama; "no_recommendation" has no model ("").
 */
const preloadRoundSchema = {
  type: 'object',
  required: ['at', 'models'],
  additionalProperties: false,
  properties: {
    at: { type: 'string', format: 'date-time', maxLength: 64 },
    models: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_PRELOAD_MODELS,
      items: {
        type: 'object',
        required: ['model', 'result'],
        additionalProperties: false,
        properties: {
          model: { type: 'string', maxLength: 200 },
          result: { type: 'string', enum: [...PRELOAD_RESULTS] },
        },
        if: { properties: { result: { type: 'string', const: 'no_recommendation' } } },
        then: { properties: { model: { type: 'string', const: '' } } },
        else: { properties: { model: { type: 'string', pattern: MODEL_NAME.source } } },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
addFormats(ajv, ['date-time']);
const validate = ajv.compile<PreloadRound>(preloadRoundSchema);

/** The round, or why the body is not one (for a 400). */
export function parsePreloadRound(body: unknown): { round: PreloadRound } | { problem: string } {
  if (validate(body)) return { round: body };
  const e = validate.errors?.[0];
  return { problem: `${e?.instancePath || '/'} ${e?.message ?? 'is invalid'}` };
}
