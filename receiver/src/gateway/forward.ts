import type http from 'node:http';
import type { Dispatcher } from 'undici';
import type { UpstreamErrorReason } from './metrics';
import { Pool } from './undici-pool';

/**
 * One request to Ollama: the client's method, path and headers, with Ollama's own Host (Ollama on a
 * loopback address answers 403 to a foreign Host) and without hop-by-hop headers. Resolves with Ollama's
 * response head; the body is the caller's to stream.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export class UpstreamError extends Error {
  /** A kept-alive connection Ollama had closed: nothing reached Ollama, sending again is safe. */
  staleConnection = false;

  constructor(readonly reason: UpstreamErrorReason, readonly code: string | undefined, message: string) {
    super(message);
  }

  /** Ollama is not there at all (stopped container, nothing listening): a wake can help. */
  get unreachable(): boolean {
    return this.reason === 'connect_refused' || this.reason === 'dns' || this.reason === 'connect_timeout';
  }
}

export interface ForwardRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** A buffered body, or the client's request to stream through. */
  body: Buffer | http.IncomingMessage;
}

/** Where Ollama's answer goes, callback by callback (the path every request takes: no promise in it). */
export interface UpstreamSink {
  /** Ollama's head; `resume` lets Ollama send more after onAnswerData returned false. */
  onAnswerHead(status: number, headers: http.OutgoingHttpHeaders, resume: () => void): void;
  /** A body chunk; false when the client is not taking more yet (call resume after its 'drain'). */
  onAnswerData(chunk: Buffer): boolean;
  /** The whole answer arrived. */
  onAnswerEnd(): void;
  /** The exchange failed: before the head (nothing answered) or after it (the answer broke off). */
  onUpstreamError(err: UpstreamError, answered: boolean): void;
}

export function requestHeaders(incoming: http.IncomingHttpHeaders, upstreamHost: string, bodyLength?: number): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const connection = incoming.connection;
  const listed = typeof connection === 'string' ? connection.toLowerCase().split(',').map((s) => s.trim()) : [];
  for (const name in incoming) {
    const value = incoming[name];
    // expect: the gateway answered the client's 100-continue (Node does, before the body is read); Ollama need not be asked.
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'expect' || listed.includes(name)) continue;
    out[name] = value;
  }
  out.host = upstreamHost;
  if (bodyLength !== undefined) out['content-length'] = String(bodyLength);
  return out;
}

/** Codes of an error before any connection: Ollama is not there (a wake can help). */
const CONNECT_ERRORS: Record<string, UpstreamErrorReason> = {
  ECONNREFUSED: 'connect_refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  ETIMEDOUT: 'connect_timeout',
  EHOSTUNREACH: 'connect_timeout',
  ENETUNREACH: 'connect_timeout',
};
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** An error of undici (or of the socket under it) as the gateway counts it. */
export function classifyUndiciError(err: Error & { code?: string; socket?: { bytesRead?: number } }, answered: boolean): UpstreamError {
  const code = err.code;
  const reason: UpstreamErrorReason = (!answered && code !== undefined && CONNECT_ERRORS[code]) || (code !== undefined && RESET_ERRORS.has(code) ? 'reset' : 'other');
  const classified = new UpstreamError(reason, code, `${code ?? 'error'}: ${err.message}`);
  // Ollama closed a kept-alive connection as the request went out: not a byte came back, sending again is safe.
  classified.staleConnection = !answered && reason === 'reset' && (err.socket?.bytesRead ?? 0) === 0;
  return classified;
}

/**
 * The connections to Ollama: a pool of kept-alive connections (undici, the client behind Node's fetch, at
 * about two thirds of node:http's CPU per request). No timeouts once connected: a model load or a long
 * answer takes minutes, and the client decides how long it waits.
 */
export class Upstream {
  private readonly pool: Pool;
  readonly host: string;

  constructor(readonly url: URL, connectTimeoutMs: number) {
    this.host = url.host;
    this.pool = new Pool(url.origin, {
      connections: null,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 4_000,
      connect: { timeout: connectTimeoutMs },
    });
  }

  /** Sends one request; the answer comes to the sink. Returns the abort (the client went away). */
  dispatch(r: ForwardRequest, sink: UpstreamSink): () => void {
    const call = new UpstreamCall(sink);
    const buffered = Buffer.isBuffer(r.body);
    this.pool.dispatch({
      method: r.method as Dispatcher.HttpMethod,
      path: r.path,
      headers: requestHeaders(r.headers, this.host, buffered ? (r.body as Buffer).length : undefined) as Record<string, string | string[]>,
      body: r.body,
    }, call);
    return call.abort;
  }

  /** GET /api/version answers: Ollama is up. */
  async ready(signal: AbortSignal): Promise<boolean> {
    const res = await fetch(new URL('/api/version', this.url), { signal });
    await res.body?.cancel();
    return res.ok;
  }

  close(): void {
    // A second close finds the pool destroyed already: nothing to do.
    this.pool.destroy().catch(() => undefined);
  }
}

/**
 * Ollama's head for the client: undici's raw [name, value, ...] Buffers as Node's header object (lower-case
 * names, repeated ones joined, set-cookie a list), without hop-by-hop headers.
 */
function answerHeaders(raw: Buffer[]): http.OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const value = raw[i + 1].toString('latin1');
    const had = out[name];
    if (had === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = `${had}, ${value}`;
  }
  return out;
}

/** undici's handler for one exchange: passes the answer on to the sink, with undici's errors classified. */
class UpstreamCall implements Dispatcher.DispatchHandlers {
  private abortExchange?: (err?: Error) => void;
  private abortRequested = false;
  private answered = false;

  constructor(private readonly sink: UpstreamSink) {}

  readonly abort = (): void => {
    this.abortRequested = true;
    this.abortExchange?.(new Error('client went away'));
  };

  onConnect(abort: (err?: Error) => void): void {
    this.abortExchange = abort;
    if (this.abortRequested) abort(new Error('client went away'));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true;
    this.answered = true;
    this.sink.onAnswerHead(status, answerHeaders(raw), resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.sink.onAnswerData(chunk);
  }

  onComplete(): void {
    this.sink.onAnswerEnd();
  }

  onError(err: Error): void {
    this.sink.onUpstreamError(classifyUndiciError(err as Error & { code?: string }, this.answered), this.answered);
  }
}
