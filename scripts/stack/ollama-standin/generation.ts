/**
 * Deterministic answers and timing fields of the Ollama stand-in: the same request gives the same text,
 * token counts and durations (only created_at and OpenAI ids differ), so answers through a proxy can be
 * compared with answers without it. Durations follow the configured token rate and load time.
 */
export interface Timing {
  /** Tokens generated per second (the pause between streamed chunks is 1/rate). */
  tokensPerSecond: number;
  /** Time to load a model that is not loaded yet. */
  loadMs: number;
  /** Tokens in an answer unless options.num_predict / max_tokens asks for fewer. */
  answerTokens: number;
}

export function promptTokenCount(text: string): number {
  return Math.max(1, text.split(/\s+/).filter((w) => w.length > 0).length);
}

/** The answer's tokens: a sentence naming the model and the prompt, repeated up to `count` tokens. */
export function answerTokens(model: string, prompt: string, count: number): string[] {
  const topic = prompt.trim().split(/\s+/).slice(0, 6).join(' ') || 'nothing';
  const words = `The stand-in ${model} answers "${topic}" with deterministic tokens.`.split(' ');
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push((i === 0 ? '' : ' ') + words[i % words.length]);
  return tokens;
}

/** A fixed-length vector from the text (unit length), as an embedding model would give. */
export function embeddingOf(text: string, dims = 16): number[] {
  const v: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < dims; i++) {
    for (const c of `${i}:${text}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    v.push((h / 2 ** 32) * 2 - 1);
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

export interface Durations {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/** Nanosecond fields of the final chunk; a model already loaded reports a small fixed load time. */
export function durations(timing: Timing, promptTokens: number, evalTokens: number, loaded: boolean): Durations {
  const load = loaded ? 1_500_000 : Math.round(timing.loadMs * 1e6);
  const promptEval = promptTokens * 250_000;
  const evalNs = Math.round((evalTokens * 1e9) / timing.tokensPerSecond);
  return {
    total_duration: load + promptEval + evalNs + 500_000,
    load_duration: load,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: promptEval,
    eval_count: evalTokens,
    eval_duration: evalNs,
  };
}
