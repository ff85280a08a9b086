import type { ServerResponse } from 'node:http';

/**
 * Answers with a JSON body through node's own writeHead/end. The webhook is the hot path, and Express's res.json
 * (content-type lookup, ETag and freshness checks, string-to-Buffer copies) cost it 10-20 % of its throughput
 * under the receiver's GC flags (scripts/bench/receiver-throughput.ts). Headers set before (Retry-After) are kept.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
