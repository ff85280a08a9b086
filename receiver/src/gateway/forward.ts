import http from 'node:http';
import type { UpstreamErrorReason } from './metrics';

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

export interface SentRequest {
  /** Destroy it to abort the exchange (the client went away). */
  request: http.ClientRequest;
  /** Ollama's response head; rejects with an UpstreamError. */
  response: Promise<http.IncomingMessage>;
}

export function requestHeaders(incoming: http.IncomingHttpHeaders, upstreamHost: string, bodyLength?: number): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const connection = incoming.connection;
  const listed = typeof connection === 'string' ? connection.toLowerCase().split(',').map((s) => s.trim()) : [];
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.includes(name)) continue;
    out[name] = value;
  }
  out.host = upstreamHost;
  if (bodyLength !== undefined) {
    out['content-length'] = String(bodyLength);
    // The body is here already (the gateway answered the client's 100-continue): Ollama need not be asked.
    delete out.expect;
  }
  return out;
}

export function responseHeaders(incoming: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export function classifyError(err: NodeJS.ErrnoException, connected: boolean): UpstreamError {
  const code = err.code;
  let reason: UpstreamErrorReason = 'other';
  if (!connected && code === 'ECONNREFUSED') reason = 'connect_refused';
  else if (!connected && (code === 'ENOTFOUND' || code === 'EAI_AGAIN')) reason = 'dns';
  else if (!connected && (code === 'ETIMEDOUT' || code === 'ECONNECT_TIMEOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH')) reason = 'connect_timeout';
  else if (code === 'ECONNRESET' || code === 'EPIPE') reason = 'reset';
  return new UpstreamError(reason, code, `${code ?? 'error'}: ${err.message}`);
}

export class Upstream {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo', noDelay: true } as http.AgentOptions);
  readonly host: string;
  private readonly hostname: string;
  private readonly port: string | number;

  constructor(readonly url: URL, private readonly connectTimeoutMs: number) {
    this.host = url.host;
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port || 80;
  }

  send(r: ForwardRequest): SentRequest {
    const buffered = Buffer.isBuffer(r.body);
    const request = http.request({
      protocol: 'http:',
      hostname: this.hostname,
      port: this.port,
      method: r.method,
      path: r.path,
      headers: requestHeaders(r.headers, this.host, buffered ? (r.body as Buffer).length : undefined),
      agent: this.agent,
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      let connected = false;
      let connectTimer: NodeJS.Timeout | undefined;
      // A kept-alive socket is connected already: the connect deadline costs a timer only on a new connection.
      request.once('socket', (socket) => {
        if (!socket.connecting) {
          connected = true;
          return;
        }
        connectTimer = setTimeout(() => request.destroy(Object.assign(new Error(`no connection within ${this.connectTimeoutMs} ms`), { code: 'ECONNECT_TIMEOUT' })), this.connectTimeoutMs);
        socket.once('connect', () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      });
      request.once('response', (res) => {
        clearTimeout(connectTimer);
        resolve(res);
      });
      request.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        const classified = classifyError(err, connected);
        classified.staleConnection = request.reusedSocket && err.code === 'ECONNRESET';
        reject(classified);
      });
    });
    if (buffered) request.end(r.body as Buffer);
    else (r.body as http.IncomingMessage).pipe(request);
    return { request, response };
  }

  /** GET /api/version answers: Ollama is up. */
  async ready(signal: AbortSignal): Promise<boolean> {
    const res = await fetch(new URL('/api/version', this.url), { signal });
    await res.body?.cancel();
    return res.ok;
  }

  close(): void {
    this.agent.destroy();
  }
}
