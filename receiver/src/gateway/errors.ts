import type http from 'node:http';

/**
 * Answers the gateway gives itself, in the shape the client expects from Ollama: {"error": "..."} on the
 * native API, OpenAI's {"error": {message, type, param, code}} under /v1 (as Ollama's own /v1 does).
 */
export function sendGatewayError(res: http.ServerResponse, path: string, status: number, message: string, retryAfterSeconds?: number): void {
  const body = path.startsWith('/v1/')
    ? { error: { message, type: status === 400 || status === 413 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error', param: null, code: null } }
    : { error: message };
  const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json; charset=utf-8' };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}
