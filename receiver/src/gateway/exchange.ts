import type http from 'node:http';
import type { Logger } from '../logger';
import { QueueFullError, type AdmissionQueue, type Release } from './admission-queue';
import type { GatewayConfig } from './config';
import { hasJsonBody, type Endpoint } from './endpoints';
import { sendGatewayError } from './errors';
import type { Upstream, UpstreamError, UpstreamSink } from './forward';
import { AnswerTail } from './generation-stats';
import type { GatewayMetrics, Outcome, RejectReason } from './metrics';
import { NO_MODEL, type ModelLabels } from './model-label';
import type { BodyError, BodyReader, BodySink } from './request-body';
import type { WakeClient } from './wake-client';

/** What every exchange shares: the app's parts. */
export interface ExchangeContext {
  config: GatewayConfig;
  metrics: GatewayMetrics;
  labels: ModelLabels;
  queue: AdmissionQueue;
  upstream: Upstream;
  bodies: BodyReader;
  waker?: WakeClient;
  logger: Logger;
  /** At most one log line per kind of problem every 10 s. */
  warn(key: string, msg: string, fields: Record<string, unknown>): void;
  draining(): boolean;
}

class HoldTimeout extends Error {}

const NO_BODY = Buffer.alloc(0);

/**
 * One request through the gateway, from its arrival to the end of its answer: the body (bounded), the model
 * label, a queue slot for generations, the request to Ollama (sent again after a stale kept-alive
 * connection, or after a wake), the answer streamed back chunk by chunk, and its outcome counted once.
 * Callbacks, not promises, on the path every request takes: in a burst, the last request waits for the
 * gateway's work on all the others. Only a request that must wait (for a slot or a wake) takes an async path.
 */
export class Exchange implements BodySink, UpstreamSink {
  private model = NO_MODEL;
  private body: Buffer | http.IncomingMessage;
  private settled = false;
  /** A generation's slot: held until its answer has ended (a streamed answer ends long after its head). */
  private release?: Release;
  private gone = false;
  private abortUpstream?: () => void;
  /** Made when a request is first held (for a slot or a wake): aborted by the client going away or by the hold deadline. */
  private hold?: AbortController;
  private holdTimer?: NodeJS.Timeout;
  private retried = false;
  private woken = false;
  // The answer, once its head came.
  private status = 0;
  private streamed = false;
  private ndjson = false;
  private firstChunk = true;
  private lastByte = 0x0a;
  /** Only generations' answers are scanned for Ollama's statistics. */
  private scan = false;
  private tail?: AnswerTail;
  private resumeUpstream?: () => void;

  constructor(
    private readonly c: ExchangeContext,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly path: string,
    private readonly endpoint: Endpoint,
    private readonly started: number,
  ) {
    this.body = req;
  }

  start(): void {
    // The client going away aborts whatever this request waits for: its queue place, the wake, Ollama's answer.
    this.res.on('close', this.onClientClose);
    if (this.c.draining()) return this.refuse(503, 'shutting_down', 'the gateway is shutting down; retry');
    if (hasJsonBody(this.endpoint)) return this.c.bodies.read(this.req, this);
    const method = this.req.method;
    if ((method === 'GET' || method === 'HEAD') && this.req.headers['content-length'] === undefined && this.req.headers['transfer-encoding'] === undefined) {
      // No body: a request that can be sent again (after a stale keep-alive connection).
      this.body = NO_BODY;
      this.req.resume();
    }
    // Metadata and other requests are never held: straight through.
    this.send();
  }

  /** An error of the gateway itself (a bug): 500, and the slot is freed. */
  fail(err: unknown): void {
    this.c.logger.error('request failed', { error: err, path: this.path });
    this.release?.();
    if (!this.res.headersSent) sendGatewayError(this.res, this.path, 500, 'internal gateway error');
    else this.res.destroy();
  }

  // The callbacks below run from event emitters and undici's error path: a throw must not escape them.
  onBodyError(err: BodyError): void {
    try {
      if (err.reason === 'aborted') return this.settle('aborted');
      this.refuse(err.reason === 'body_too_large' ? 413 : 408, err.reason, err.message);
    } catch (e) {
      this.fail(e);
    }
  }

  onBody(body: Buffer): void {
    try {
      this.admit(body);
    } catch (err) {
      this.fail(err);
    }
  }

  onUpstreamError(err: UpstreamError, answered: boolean): void {
    try {
      if (answered) this.broken();
      else this.unanswered(err);
    } catch (e) {
      this.fail(e);
    }
  }

  private admit(body: Buffer): void {
    this.body = body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return this.refuse(400, 'invalid_json', `invalid JSON in the request body: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return this.refuse(400, 'invalid_json', 'the request body must be a JSON object');
    }
    const generation = this.endpoint.kind === 'generation';
    const named = (parsed as { model?: unknown }).model ?? (generation ? undefined : (parsed as { name?: unknown }).name);
    if (generation && (typeof named !== 'string' || named === '')) return this.refuse(400, 'missing_model', 'model is required');
    this.model = this.c.labels.label(named);
    if (this.gone) return this.settle('aborted');
    if (!generation) return this.send();
    // A free slot is taken at once; only a request that waits gets the hold deadline's timer and signal.
    const slot = this.c.queue.tryAcquire();
    if (slot === undefined) {
      this.waitForSlot().catch((err: unknown) => this.fail(err));
      return;
    }
    this.release = slot;
    this.c.metrics.queueWait.observe(0);
    this.send();
  }

  private async waitForSlot(): Promise<void> {
    const { config, metrics, queue } = this.c;
    const queuedAt = performance.now();
    let slot: Release;
    try {
      slot = await queue.acquire(this.holdSignal());
    } catch (err) {
      if (err instanceof QueueFullError) {
        this.c.warn('queue_full', 'queue full: request refused', { path: this.path, max_queue: config.admission.maxQueue });
        sendGatewayError(this.res, this.path, 503, `the gateway's queue is full (${config.admission.maxQueue} requests waiting for Ollama); retry later`, config.admission.retryAfterSeconds);
        return this.settle('rejected_queue_full');
      }
      if (this.gone) return this.settle('aborted');
      metrics.queueWait.observe((performance.now() - queuedAt) / 1000);
      sendGatewayError(this.res, this.path, 503, `no slot for this request within ${config.admission.holdTimeoutMs / 1000} s (${config.admission.maxConcurrent} requests at once); retry later`, config.admission.retryAfterSeconds);
      return this.settle('queue_timeout');
    }
    // Settled before the slot came (the client left as it was handed over): nothing to send.
    if (this.settled || this.gone) {
      slot();
      return this.settle('aborted');
    }
    this.release = slot;
    metrics.queueWait.observe((performance.now() - queuedAt) / 1000);
    this.send();
  }

  /** One deadline for everything before the answer starts (queue and wake): clients such as n8n give up at 300 s. */
  private holdSignal(): AbortSignal {
    if (!this.hold) {
      const hold = (this.hold = new AbortController());
      this.holdTimer = setTimeout(() => hold.abort(new HoldTimeout()), Math.max(0, this.started + this.c.config.admission.holdTimeoutMs - performance.now()));
    }
    return this.hold.signal;
  }

  private send(): void {
    const req = this.req;
    this.abortUpstream = this.c.upstream.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: this.body }, this);
  }

  /** Ollama did not answer: sent again, woken, or a 502/503 of the gateway's. */
  private unanswered(err: UpstreamError): void {
    if (this.gone) return this.settle('aborted');
    const { config, metrics, waker } = this.c;
    metrics.upstreamErrors.inc({ reason: err.reason });
    const resendable = Buffer.isBuffer(this.body);
    if (err.staleConnection && resendable && !this.retried) {
      this.retried = true;
      return this.send();
    }
    const retryAfter = config.admission.retryAfterSeconds;
    if (err.unreachable && resendable && waker && !this.woken && hasJsonBody(this.endpoint)) {
      this.wakeThenSend(waker).catch((e: unknown) => this.fail(e));
      return;
    }
    if (err.unreachable) {
      this.c.warn('unreachable', 'ollama cannot be reached', { upstream: config.upstream.url.origin, code: err.code, wake: waker !== undefined });
      const why = waker && (this.endpoint.kind === 'metadata' || this.endpoint.kind === 'other')
        ? '; it is stopped to save memory and a generation request wakes it'
        : waker ? '' : '; no wake is configured';
      sendGatewayError(this.res, this.path, 503, `Ollama cannot be reached at ${config.upstream.url.origin} (${err.code ?? err.reason})${why}`, retryAfter);
      return this.settle('unavailable');
    }
    this.c.warn('upstream_error', 'request to ollama failed', { code: err.code, message: err.message });
    sendGatewayError(this.res, this.path, 502, `the connection to Ollama failed: ${err.message}`);
    this.settle('upstream_error');
  }

  private async wakeThenSend(waker: WakeClient): Promise<void> {
    const outcome = await Promise.race([waker.wake(), aborted(this.holdSignal())]);
    if (this.gone) return this.settle('aborted');
    const retryAfter = this.c.config.admission.retryAfterSeconds;
    if (outcome === undefined) {
      sendGatewayError(this.res, this.path, 503, `Ollama is starting but was not ready within ${this.c.config.admission.holdTimeoutMs / 1000} s; retry`, retryAfter);
      return this.settle('unavailable');
    }
    if (outcome.result !== 'ready') {
      sendGatewayError(this.res, this.path, 503, `Ollama is stopped and the wake did not succeed (${outcome.result}): ${outcome.message}`, retryAfter);
      return this.settle('unavailable');
    }
    this.woken = true;
    this.send();
  }

  onAnswerHead(status: number, headers: http.OutgoingHttpHeaders, resume: () => void): void {
    clearTimeout(this.holdTimer);
    this.status = status;
    const type = String(headers['content-type'] ?? '');
    this.ndjson = type.includes('ndjson');
    this.streamed = this.ndjson || type.includes('event-stream');
    this.scan = this.endpoint.kind === 'generation' && status < 300;
    this.tail = new AnswerTail();
    this.resumeUpstream = resume;
    this.res.writeHead(status, headers);
    // The client sees the head at once even while Ollama loads the model; when the first chunk came with
    // Ollama's head (the usual case, the same read), the head leaves with it in one write.
    if (this.streamed) process.nextTick(flushHeadOf, this.res);
  }

  private readonly onDrain = () => this.resumeUpstream?.();

  onAnswerData(chunk: Buffer): boolean {
    if (this.firstChunk) {
      this.firstChunk = false;
      if (this.streamed && this.endpoint.kind === 'generation' && this.status < 300) this.c.metrics.timeToFirstToken.observe({ model: this.model }, (performance.now() - this.started) / 1000);
    }
    if (this.scan) this.tail!.push(chunk);
    this.lastByte = chunk[chunk.length - 1];
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onAnswerEnd(): void {
    const status = this.status;
    this.res.end();
    this.settle(status < 400 ? 'success' : status < 500 ? 'client_error' : 'upstream_error', true);
    this.tail!.release();
  }

  private broken(): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    this.c.metrics.upstreamErrors.inc({ reason: 'broken_stream' });
    this.c.warn('broken_stream', 'ollama broke off an answer', { endpoint: this.endpoint.label, status: this.status });
    this.settle('upstream_error');
    if (this.ndjson) {
      // As Ollama itself reports an error in mid-stream: one more NDJSON line with "error" (clients throw it).
      res.end(`${this.lastByte === 0x0a ? '' : '\n'}${JSON.stringify({ error: 'Ollama closed the connection before the answer was complete' })}\n`);
    } else res.destroy();
  }

  // A response closes once: a plain listener, not once()'s wrapper.
  private readonly onClientClose = () => {
    if (this.res.writableFinished) return;
    try {
      this.gone = true;
      this.abortUpstream?.();
      this.hold?.abort(new Error('client went away'));
      this.settle('aborted');
    } catch (err) {
      this.fail(err);
    }
  };

  private refuse(status: number, reason: RejectReason, message: string): void {
    this.c.metrics.rejected.inc({ reason });
    this.c.warn(reason, 'request refused by the gateway', { status, reason, path: this.path, message });
    if (status === 413 || status === 408) this.res.setHeader('Connection', 'close');
    sendGatewayError(this.res, this.path, status, message, status === 503 ? this.c.config.admission.retryAfterSeconds : undefined);
    this.settle(reason === 'shutting_down' ? 'unavailable' : 'client_error');
  }

  /** Counts the outcome once and frees the slot. Durations and statistics only of whole answers Ollama gave. */
  private settle(outcome: Outcome, answered = false): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.holdTimer);
    this.release?.();
    const { metrics } = this.c;
    const model = this.model;
    metrics.requests.inc({ model, endpoint: this.endpoint.label, outcome });
    if (this.endpoint.kind !== 'generation' || !answered) return;
    metrics.duration.observe({ model }, (performance.now() - this.started) / 1000);
    if (outcome !== 'success') return;
    const stats = this.tail!.stats();
    if (stats.loadSeconds !== undefined) metrics.loadDuration.observe({ model }, stats.loadSeconds);
    if (stats.promptTokens !== undefined) metrics.promptTokens.inc({ model }, stats.promptTokens);
    if (stats.generatedTokens !== undefined) metrics.generatedTokens.inc({ model }, stats.generatedTokens);
  }
}

function flushHeadOf(res: http.ServerResponse): void {
  if (!res.headersSent && !res.destroyed) res.flushHeaders();
}

function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}
