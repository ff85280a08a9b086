/**
 * What the gateway does with each Ollama endpoint. `generation` requests are admission-controlled (the
 * queue), buffered (the body limit; `model` read for labels) and wake a stopped Ollama; `management`
 * requests are buffered and wake it but are not queued; `metadata` requests (what UIs poll) pass straight
 * and never wake Ollama; anything else streams through unchanged under the endpoint label "other".
 */
export type EndpointKind = 'generation' | 'management' | 'metadata' | 'other';

export interface Endpoint {
  /** The `endpoint` label: the path for known endpoints, "other" otherwise (bounded cardinality). */
  label: string;
  kind: EndpointKind;
}

const GENERATION = ['/api/generate', '/api/chat', '/api/embed', '/api/embeddings', '/v1/chat/completions', '/v1/completions', '/v1/embeddings'];
const MANAGEMENT = ['/api/show', '/api/pull', '/api/push', '/api/create', '/api/copy', '/api/delete'];
const METADATA = ['/api/tags', '/api/ps', '/api/version', '/v1/models', '/'];

const table = new Map<string, Endpoint>([
  ...GENERATION.map((p) => [p, { label: p, kind: 'generation' }] as const),
  ...MANAGEMENT.map((p) => [p, { label: p, kind: 'management' }] as const),
  ...METADATA.map((p) => [p, { label: p, kind: 'metadata' }] as const),
]);

const OTHER: Endpoint = { label: 'other', kind: 'other' };
const MODEL_BY_ID: Endpoint = { label: '/v1/models', kind: 'metadata' };

/** The endpoint of a request path (query string already removed). Methods other than Ollama's pass as "other". */
export function classifyEndpoint(method: string, path: string): Endpoint {
  const known = table.get(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
  if (known) {
    if (known.kind === 'metadata') return method === 'GET' || method === 'HEAD' ? known : OTHER;
    if (known.label === '/api/delete') return method === 'DELETE' ? known : OTHER;
    return method === 'POST' ? known : OTHER;
  }
  if (path.startsWith('/v1/models/') && method === 'GET') return MODEL_BY_ID;
  return OTHER;
}

/** Endpoints whose request carries `model` (or Ollama's older `name`) in a JSON body. */
export function hasJsonBody(endpoint: Endpoint): boolean {
  return endpoint.kind === 'generation' || endpoint.kind === 'management';
}
