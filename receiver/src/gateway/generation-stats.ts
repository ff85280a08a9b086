/**
 * The statistics Ollama puts at the end of a finished generation, read from the last bytes of the answer
 * (the body passes through untouched; nothing is parsed but this tail). Native API: the final object's
 * load_duration (ns), prompt_eval_count, eval_count. /v1: usage.prompt_tokens and completion_tokens
 * (a streamed /v1 answer has them only with stream_options.include_usage).
 * Keys are matched with their quotes; inside a JSON string a quote is escaped, so generated text that
 * spells `"eval_count":9` cannot be mistaken for the field.
 */
const TAIL_BYTES = 8192;

export interface GenerationStats {
  loadSeconds?: number;
  promptTokens?: number;
  generatedTokens?: number;
}

/** Rings of finished answers, for the next ones: no allocation per answer. At most MAX_SPARE are kept. */
const spare: Buffer[] = [];
const MAX_SPARE = 64;

export class AnswerTail {
  // The last bytes, copied into a ring of TAIL_BYTES: a streamed chunk is not kept alive past its write,
  // so it dies young instead of being promoted to the old generation (100 streams held ~10 MB of such chunks).
  private ring: Buffer | undefined;
  /** Bytes of the answer so far; the oldest byte kept is at written % TAIL_BYTES once the ring is full. */
  private written = 0;

  push(chunk: Buffer): void {
    const ring = (this.ring ??= spare.pop() ?? Buffer.allocUnsafeSlow(TAIL_BYTES));
    const skipped = Math.max(0, chunk.length - TAIL_BYTES);
    this.written += skipped;
    const at = this.written % TAIL_BYTES;
    const copied = chunk.copy(ring, at, skipped);
    if (skipped + copied < chunk.length) chunk.copy(ring, 0, skipped + copied);
    this.written += chunk.length - skipped;
  }

  stats(): GenerationStats {
    const text = this.text();
    const load = lastNumber(text, 'load_duration');
    return {
      loadSeconds: load === undefined ? undefined : load / 1e9,
      promptTokens: lastNumber(text, 'prompt_eval_count') ?? lastNumber(text, 'prompt_tokens'),
      generatedTokens: lastNumber(text, 'eval_count') ?? lastNumber(text, 'completion_tokens'),
    };
  }

  /** The answer is over: its ring serves a later one. */
  release(): void {
    if (this.ring && spare.length < MAX_SPARE) spare.push(this.ring);
    this.ring = undefined;
    this.written = 0;
  }

  private text(): string {
    if (!this.ring) return '';
    if (this.written < TAIL_BYTES) return this.ring.toString('latin1', 0, this.written);
    const oldest = this.written % TAIL_BYTES;
    return this.ring.toString('latin1', oldest) + this.ring.toString('latin1', 0, oldest);
  }
}

function lastNumber(text: string, key: string): number | undefined {
  const needle = `"${key}":`;
  const at = text.lastIndexOf(needle);
  if (at === -1) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(at + needle.length, at + needle.length + 40));
  return m ? Number(m[1]) : undefined;
}
