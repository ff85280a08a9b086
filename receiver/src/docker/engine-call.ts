import { ContainerNotFoundError, DockerApiError, DockerUnavailableError } from './controller';

/**
 * Runs one Engine API call bounded by a deadline (extraMs on top, e.g. a stop's grace period) and translates its
 * failure into the controller's errors.
 */
export type EngineCall = <T>(what: string, run: (signal: AbortSignal) => Promise<T>, extraMs?: number) => Promise<T>;

const UNREACHABLE_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'EAI_AGAIN', 'ENOTFOUND', 'EACCES', 'ENOTSOCK', 'ECONNABORTED', 'ABORT_ERR', 'ERR_SOCKET_CLOSED',
]);

export function boundedEngineCall(timeoutMs: number): EngineCall {
  return async (what, run, extraMs = 0) => {
    const limit = timeoutMs + extraMs;
    const signal = AbortSignal.timeout(limit);
    try {
      return await run(signal);
    } catch (error) {
      throw translate(error, what, limit);
    }
  };
}

function translate(error: unknown, what: string, limitMs: number): Error {
  if (error instanceof DockerUnavailableError || error instanceof DockerApiError || error instanceof ContainerNotFoundError) {
    return error;
  }
  const e = error as { statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown; json?: unknown };
  if (typeof e?.statusCode === 'number') {
    return new DockerApiError(`Docker ${what}: HTTP ${e.statusCode} ${engineMessage(e.json, e.message)}`, e.statusCode, error);
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new DockerUnavailableError(`Docker ${what}: no answer within ${limitMs} ms`, error);
  }
  if (typeof e?.code === 'string' && (UNREACHABLE_CODES.has(e.code) || e.code.startsWith('HPE_'))) {
    return new DockerUnavailableError(`Docker ${what}: engine unreachable (${e.code})`, error);
  }
  if (typeof e?.message === 'string' && /socket hang up/i.test(e.message)) {
    return new DockerUnavailableError(`Docker ${what}: connection closed`, error);
  }
  return new DockerApiError(`Docker ${what}: ${String(e?.message ?? error)}`, undefined, error);
}

function engineMessage(json: unknown, fallback: unknown): string {
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  // A socket proxy answers 403 with an HTML page: keep the log line short.
  return String(fallback ?? '').replace(/\s+/g, ' ').slice(0, 200);
}
