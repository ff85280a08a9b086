/**
 * The gateway's report of one model preload round to the receiver (POST /api/v1/targets/NAME/preloads):
 * the contract both sides build from, so the result values and the model name check are defined once.
 */

/** ollama_gateway_preloads_total{result} and ai_dispatcher_preloads_total{result}. */
export const PRELOAD_RESULTS = ['loaded', 'failed', 'no_recommendation'] as const;
export type PreloadResult = (typeof PRELOAD_RESULTS)[number];

/** Model names as Ollama spells them; anything else (from Prometheus, from a request) is refused. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,199}$/;

/** One round loads each distinct model of the gateway's pairs (at most 64 pairs) once. */
export const MAX_PRELOAD_MODELS = 64;

export interface PreloadOutcome {
  /** "" for no_recommendation: there was no model to load. */
  model: string;
  result: PreloadResult;
}

export interface PreloadRound {
  /** When the round ended, by the gateway's clock (ISO 8601). */
  at: string;
  models: PreloadOutcome[];
}
