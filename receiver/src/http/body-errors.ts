/** How a body-parser error becomes an answer: never a 500 for bad input. */
export interface BodyErrorAnswer {
  status: number;
  outcome: 'invalid' | 'too_large' | 'unsupported_media_type' | 'error';
  error: string;
  message: string;
}

export function answerForBodyError(err: unknown): BodyErrorAnswer {
  const e = (err ?? {}) as { type?: unknown; status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  switch (e.type) {
    case 'entity.too.large':
    case 'parameters.too.many':
      return { status: 413, outcome: 'too_large', error: 'payload_too_large', message: 'the body is larger than the configured limit' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, outcome: 'unsupported_media_type', error: 'unsupported_encoding', message: 'unsupported content encoding or charset' };
    case 'entity.parse.failed':
      return { status: 400, outcome: 'invalid', error: 'malformed_json', message: 'the body is not valid JSON (an object was expected)' };
    case 'entity.too.complex':
      return { status: 400, outcome: 'invalid', error: 'too_complex', message: String((err as Error).message) };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return { status: 400, outcome: 'invalid', error: 'bad_request', message: 'the body could not be read completely' };
  }
  if (status >= 400 && status < 500) {
    return { status, outcome: 'invalid', error: 'bad_request', message: 'the request could not be read' };
  }
  return { status: 500, outcome: 'error', error: 'internal_error', message: 'internal error' };
}

/** application/json or any +json type, parameters (charset) ignored. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
