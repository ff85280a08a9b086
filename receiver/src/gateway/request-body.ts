import type http from 'node:http';

/**
 * Reads a request body into memory, bounded in size and time. A Content-Length over the limit is refused
 * before a byte is read. Callbacks, not a promise: every generation request takes this path.
 */
export class BodyError extends Error {
  constructor(readonly reason: 'body_too_large' | 'body_timeout' | 'aborted', message: string) {
    super(message);
  }
}

export interface BodySink {
  onBody(body: Buffer): void;
  onBodyError(err: BodyError): void;
}

/**
 * The body deadlines of all requests being read, checked together every `timeoutMs / 4` (at most every second)
 * while any is pending, as Node checks its own header timeout: no timer per request. A body is cut between
 * timeoutMs and timeoutMs plus one check interval after the request arrived.
 */
export class BodyReader {
  private readonly pending = new Set<PendingBody>();
  private sweeper?: NodeJS.Timeout;
  private readonly checkEveryMs: number;

  constructor(readonly limitBytes: number, readonly timeoutMs: number) {
    this.checkEveryMs = Math.min(1000, Math.max(10, timeoutMs / 4));
  }

  read(req: http.IncomingMessage, sink: BodySink): void {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limitBytes) {
      sink.onBodyError(new BodyError('body_too_large', `request body of ${declared} bytes is over the gateway's limit of ${this.limitBytes} bytes`));
      return;
    }
    const body = new PendingBody(req, sink, this, performance.now() + this.timeoutMs);
    this.pending.add(body);
    this.sweeper ??= setInterval(() => this.sweep(), this.checkEveryMs).unref();
  }

  /** Stops the checks (the app is closing); bodies still pending are no longer cut. */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  done(body: PendingBody): void {
    this.pending.delete(body);
  }

  private sweep(): void {
    const now = performance.now();
    for (const body of this.pending) {
      if (body.deadline <= now) body.fail(new BodyError('body_timeout', `request body not received within ${this.timeoutMs / 1000} s`));
    }
    if (this.pending.size === 0) this.close();
  }
}

class PendingBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private finished = false;
  private readonly onData = (chunk: Buffer) => {
    this.size += chunk.length;
    if (this.size > this.reader.limitBytes) this.fail(new BodyError('body_too_large', `request body is over the gateway's limit of ${this.reader.limitBytes} bytes`));
    else this.chunks.push(chunk);
  };
  private readonly onEnd = () => {
    if (!this.finish()) return;
    this.sink.onBody(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size));
  };
  private readonly onError = () => this.fail(new BodyError('aborted', 'the client went away while sending the body'));
  private readonly onClose = () => {
    if (!this.req.complete) this.fail(new BodyError('aborted', 'the client went away while sending the body'));
  };

  constructor(private readonly req: http.IncomingMessage, private readonly sink: BodySink, private readonly reader: BodyReader, readonly deadline: number) {
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('close', this.onClose);
  }

  fail(err: BodyError): void {
    if (!this.finish()) return;
    // Stop reading; the caller answers and the connection is closed after the answer.
    this.req.pause();
    this.sink.onBodyError(err);
  }

  /** False when the body was already done with. */
  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.reader.done(this);
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.req.off('close', this.onClose);
    return true;
  }
}
