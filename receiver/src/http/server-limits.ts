import http from 'node:http';

/**
 * Limits on the HTTP server (Node's defaults: 60 s for the headers, 300 s for a request, no connection cap).
 * A request is its headers and body, not the answer: a wake that waits minutes for readiness is unaffected.
 */
export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  connectionsCheckingIntervalMs: number;
  maxConnections: number;
  keepAliveTimeoutMs: number;
}

export const SERVER_LIMITS: Readonly<ServerLimits> = {
  /** The whole header block must arrive within this (slowloris). */
  headersTimeoutMs: 10_000,
  /** The whole request, body included (a 1 MiB webhook body takes milliseconds from Alertmanager). */
  requestTimeoutMs: 30_000,
  /** How often Node checks the two timeouts above (its default, 30 s, would let them overrun by that much). */
  connectionsCheckingIntervalMs: 1_000,
  /** Beyond this many open connections new ones are closed at once (file descriptors and memory stay bounded). */
  maxConnections: 512,
  /** Longer than the idle timeout of Go's HTTP clients towards us would risk a reset on reuse; kept from before. */
  keepAliveTimeoutMs: 65_000,
};

export function createLimitedServer(handler: http.RequestListener, limits: Readonly<ServerLimits> = SERVER_LIMITS): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}
