/**
 * The one polling loop of the live tests and benchmarks: read, check, sleep, until the check holds or time runs out.
 *
 *   const started = await eventually('the container to run', async () => (await inspect()).State.Running || undefined);
 *   const queued = await poll(() => metric(registry, 'ollama_requests_queued'), (v) => v === 4, { timeoutMs: 5000 });
 *
 * A read that throws is tried again (a server still starting refuses connections); the timeout error names
 * what was awaited and the last error or value. An error for which `fatal` says true ends the wait at once.
 */

export interface PollOptions {
  /** What is awaited, for the timeout error. */
  what?: string;
  /** Default 15 s. */
  timeoutMs?: number;
  /** Pause between reads; default 50 ms. */
  intervalMs?: number;
  /** Errors that end the wait at once instead of being tried again (e.g. the awaited process exited). */
  fatal?: (error: unknown) => boolean;
}

/** Reads until accept(value) holds; returns that value. */
export async function poll<T>(read: () => Promise<T> | T, accept: (value: T) => boolean, options: PollOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last: { error: unknown } | { value: T } | undefined;
  for (;;) {
    try {
      const value = await read();
      if (accept(value)) return value;
      last = { value };
    } catch (error) {
      if (options.fatal?.(error)) throw error;
      last = { error };
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}${describe(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** Polls check() until it gives a value (anything but undefined, null or false) and returns that value. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  return (await poll(check, isValue, { what, timeoutMs, intervalMs })) as T;
}

function isValue(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

function describe(last: { error: unknown } | { value: unknown } | undefined): string {
  if (last === undefined) return '';
  if ('error' in last) return `: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  return last.value === undefined ? '' : `; last value ${JSON.stringify(last.value)}`;
}
