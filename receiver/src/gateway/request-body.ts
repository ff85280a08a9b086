import type http from 'node:http';

/**
 * Reads a request body into memory, bounded in size and time. A Content-Length over the limit is refused
 * before a byte is read.
 */
export class BodyError extends Error {
  constructor(readonly reason: 'body_too_large' | 'body_timeout' | 'aborted', message: string) {
    super(message);
  }
}

export function readBody(req: http.IncomingMessage, limitBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    return Promise.reject(new BodyError('body_too_large', `request body of ${declared} bytes is over the gateway's limit of ${limitBytes} bytes`));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (err: BodyError) => {
      cleanup();
      // Stop reading; the caller answers and the connection is closed after the answer.
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) fail(new BodyError('body_too_large', `request body is over the gateway's limit of ${limitBytes} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = () => fail(new BodyError('aborted', 'the client went away while sending the body'));
    const onClose = () => {
      if (!req.complete) fail(new BodyError('aborted', 'the client went away while sending the body'));
    };
    const timer = setTimeout(() => fail(new BodyError('body_timeout', `request body not received within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
