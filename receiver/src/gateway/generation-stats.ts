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
  // The last chunks, at least TAIL_BYTES of them once the answer is that long: joined only when read.
  private chunks: Buffer[] = [];
  private bytes = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0].length >= TAIL_BYTES) this.bytes -= this.chunks.shift()!.length;
  }

  stats(): GenerationStats {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const text = joined.subarray(Math.max(0, joined.length - TAIL_BYTES)).toString('latin1');
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
