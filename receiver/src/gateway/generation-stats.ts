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

export class AnswerTail {
  // The last bytes, copied into one buffer per answer: a streamed chunk is not kept alive past its write,
  // so it dies young instead of being promoted to the old generation (100 streams held ~10 MB of such chunks).
  private buf: Buffer | undefined;
  private len = 0;

  push(chunk: Buffer): void {
    const n = chunk.length;
    const buf = (this.buf ??= Buffer.allocUnsafeSlow(2 * TAIL_BYTES));
    if (n >= TAIL_BYTES) {
      chunk.copy(buf, 0, n - TAIL_BYTES);
      this.len = TAIL_BYTES;
      return;
    }
    if (this.len + n > buf.length) {
      const keep = Math.min(this.len, TAIL_BYTES);
      buf.copyWithin(0, this.len - keep, this.len);
      this.len = keep;
    }
    chunk.copy(buf, this.len);
    this.len += n;
  }

  stats(): GenerationStats {
    const text = this.buf ? this.buf.toString('latin1', Math.max(0, this.len - TAIL_BYTES), this.len) : '';
    const load = lastNumber(text, 'load_duration');
    return {
      loadSeconds: load === undefined ? undefined : load / 1e9,
      promptTokens: lastNumber(text, 'prompt_eval_count') ?? lastNumber(text, 'prompt_tokens'),
      generatedTokens: lastNumber(text, 'eval_count') ?? lastNumber(text, 'completion_tokens'),
    };
  }
}

function lastNumber(text: string, key: string): number | undefined {
  const needle = `"${key}":`;
  const at = text.lastIndexOf(needle);
  if (at === -1) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(at + needle.length, at + needle.length + 40));
  return m ? Number(m[1]) : undefined;
}
