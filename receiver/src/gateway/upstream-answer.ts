import type http from 'node:http';
import type { UpstreamError } from './forward';

/** Where an answer's body goes: the gateway's response to its client. */
export interface AnswerSink {
  /** A chunk; false when the client is not taking more yet (call resume() after its 'drain'). */
  data(chunk: Buffer): boolean;
  /** The whole answer arrived. */
  end(): void;
  /** Ollama broke off the answer (or the exchange was aborted) before it was complete. */
  broken(err: UpstreamError): void;
}

/**
 * Ollama's answer once its head arrived: status and headers now, the body as it comes. Chunks that arrive
 * before a sink is attached wait here (they came in the same read as the head), so nothing is lost.
 */
export class UpstreamAnswer {
  private sink?: AnswerSink;
  private backlog: Buffer[] = [];
  private finished?: { err?: UpstreamError };

  constructor(
    readonly status: number,
    readonly headers: http.OutgoingHttpHeaders,
    private readonly resumeUpstream: () => void,
  ) {}

  get contentType(): string {
    return String(this.headers['content-type'] ?? '');
  }

  /** Body bytes arrived already and wait for the sink. */
  get hasBufferedBody(): boolean {
    return this.backlog.length > 0;
  }

  attach(sink: AnswerSink): void {
    this.sink = sink;
    for (const chunk of this.backlog) sink.data(chunk);
    this.backlog = [];
    if (this.finished) this.deliverEnd(this.finished.err);
  }

  /** Ollama may send more after the sink said false. */
  resume(): void {
    this.resumeUpstream();
  }

  /** From the connection: a body chunk. False pauses reading from Ollama. */
  pushData(chunk: Buffer): boolean {
    if (!this.sink) {
      this.backlog.push(chunk);
      return true;
    }
    return this.sink.data(chunk);
  }

  /** From the connection: the end, or the error that cut the answer short. */
  pushEnd(err?: UpstreamError): void {
    if (this.finished) return;
    this.finished = { err };
    if (this.sink) this.deliverEnd(err);
  }

  private deliverEnd(err: UpstreamError | undefined): void {
    if (err) this.sink!.broken(err);
    else this.sink!.end();
  }
}
