import type http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import { AdmissionQueue, QueueFullError, type Release } from './admission-queue';
import type { GatewayConfig } from './config';
import { classifyEndpoint, hasJsonBody, type Endpoint } from './endpoints';
import { sendGatewayError } from './errors';
import { Upstream, UpstreamError } from './forward';
import type { UpstreamAnswer } from './upstream-answer';
import { AnswerTail } from './generation-stats';
import { createGatewayMetrics, type GatewayMetrics, type Outcome, type RejectReason } from './metrics';
import { ModelLabels, NO_MODEL } from './model-label';
import { BodyError, readBody } from './request-body';
import { ModelPreloader } from './model-preloader';
import { PreloadReporter } from './preload-reporter';
import { UpstreamPoller } from './upstream-poller';
import { WakeClient } from './wake-client';

export interface GatewayDeps {
  config: GatewayConfig;
  /** The gateway registers its metrics here (never prom-client's global registry). */
  registry: Registry;
  logger: Logger;
  /** Bearer token for the receiver's wake API (AI_DISPATCHER_TOKEN). */
  token?: string;
  /** Also export process_* and nodejs_* metrics (main turns this on). */
  processMetrics?: boolean;
}

export interface GatewayApp {
  /** The HTTP handler: Ollama's whole API, plus GET /metrics. */
  handle: http.RequestListener;
  metrics: GatewayMetrics;
  queue: AdmissionQueue;
  poller: UpstreamPoller;
  start(): void;
  /** Refuses new requests (503), lets the admitted ones finish (bounded), stops polling. */
  close(timeoutMs?: number): Promise<void>;
}

class HoldTimeout extends Error {}

/** What a request must cancel when its client goes away before the answer is complete. */
interface Pending {
  gone: boolean;
  /** Aborts the request to Ollama, once sent. */
  abortUpstream?: () => void;
  /** Made when a request (one with a JSON body: generation, management) is first held: aborted by the client going away or by the hold deadline. */
  hold?: AbortController;
  holdTimer?: NodeJS.Timeout;
}

export function createGatewayApp(deps: GatewayDeps): GatewayApp {
  const { config, logger, registry } = deps;
  const queue = new AdmissionQueue(config.admission.maxConcurrent, config.admission.maxQueue);
  const metrics = createGatewayMetrics(registry, queue, deps.processMetrics);
  const labels = new ModelLabels(config.metrics.maxModels);
  const upstream = new Upstream(config.upstream.url, config.upstream.connectTimeoutMs);
  const preloader = config.preload && new ModelPreloader({ ...config.preload, upstream: config.upstream.url, metrics, labels, logger });
  // The model label is known only once a model is loaded; "no recommendation" has none.
  if (preloader) metrics.preloads.inc({ model: '', result: 'no_recommendation' }, 0);
  // With a wake configured, each round is reported to the receiver too (its /api/v1/targets shows the last one).
  const reporter = preloader && config.wake && new PreloadReporter({ ...config.wake, timeoutMs: 10_000, token: deps.token, metrics, logger });
  const preloadRound = async (p: ModelPreloader) => {
    const models = await p.preload();
    await reporter?.report({ at: new Date().toISOString(), models });
  };
  const poller = new UpstreamPoller(config.upstream.url, config.poll.intervalMs, config.poll.timeoutMs, metrics, labels, logger,
    preloader && (() => void preloadRound(preloader)));
  const waker = config.wake && new WakeClient({
    ...config.wake, token: deps.token, metrics, logger, upstreamReady: (signal) => upstream.ready(signal),
  });
  const retryAfter = config.admission.retryAfterSeconds;
  let draining = false;
  const lastWarned = new Map<string, number>();
  /** At most one line per kind of problem every 10 s: a flood of bad requests must not flood the log. */
  const warn = (key: string, msg: string, fields: Record<string, unknown>) => {
    const now = Date.now();
    if ((lastWarned.get(key) ?? 0) + 10_000 > now) return;
    lastWarned.set(key, now);
    logger.warn(msg, fields);
  };

  async function proxy(req: http.IncomingMessage, res: http.ServerResponse, path: string, endpoint: Endpoint, started: number): Promise<void> {
    const method = req.method ?? 'GET';
    let model = NO_MODEL;
    let settled = false;
    /** A generation's slot: held until its answer has ended (a streamed answer ends long after its head). */
    let release: Release | undefined;
    const settle = (outcome: Outcome, tail?: AnswerTail) => {
      if (settled) return;
      settled = true;
      release?.();
      metrics.requests.inc({ model, endpoint: endpoint.label, outcome });
      // Durations and statistics of answers Ollama gave (the tail is there), not of refusals or broken answers.
      if (endpoint.kind !== 'generation' || !tail) return;
      metrics.duration.observe({ model }, (performance.now() - started) / 1000);
      if (outcome !== 'success') return;
      const stats = tail.stats();
      if (stats.loadSeconds !== undefined) metrics.loadDuration.observe({ model }, stats.loadSeconds);
      if (stats.promptTokens !== undefined) metrics.promptTokens.inc({ model }, stats.promptTokens);
      if (stats.generatedTokens !== undefined) metrics.generatedTokens.inc({ model }, stats.generatedTokens);
    };
    const refuse = (status: number, reason: RejectReason, message: string) => {
      metrics.rejected.inc({ reason });
      warn(reason, 'request refused by the gateway', { status, reason, path, message });
      if (status === 413 || status === 408) res.setHeader('Connection', 'close');
      sendGatewayError(res, path, status, message, status === 503 ? retryAfter : undefined);
      settle(reason === 'shutting_down' ? 'unavailable' : 'client_error');
    };

    // The client going away aborts whatever this request waits for: its queue place, the wake, Ollama's answer.
    // A response closes once: a plain listener, not once()'s wrapper.
    const pending: Pending = { gone: false };
    res.on('close', () => {
      if (res.writableFinished) return;
      pending.gone = true;
      pending.abortUpstream?.();
      pending.hold?.abort(new Error('client went away'));
      settle('aborted');
    });

    if (draining) return refuse(503, 'shutting_down', 'the gateway is shutting down; retry');

    let body: Buffer | http.IncomingMessage = req;
    if (hasJsonBody(endpoint)) {
      try {
        body = await readBody(req, config.limits.bodyLimitBytes, config.limits.bodyTimeoutMs);
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        if (err.reason === 'aborted') return settle('aborted');
        return refuse(err.reason === 'body_too_large' ? 413 : 408, err.reason, err.message);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        return refuse(400, 'invalid_json', `invalid JSON in the request body: ${(err as Error).message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return refuse(400, 'invalid_json', 'the request body must be a JSON object');
      }
      const named = (parsed as { model?: unknown; name?: unknown }).model ?? (endpoint.kind === 'management' ? (parsed as { name?: unknown }).name : undefined);
      if (endpoint.kind === 'generation' && (typeof named !== 'string' || named === '')) {
        return refuse(400, 'missing_model', 'model is required');
      }
      model = labels.label(named);
    } else if ((method === 'GET' || method === 'HEAD') && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      // No body: a request that can be sent again (after a stale keep-alive connection).
      body = Buffer.alloc(0);
      req.resume();
    }

    // Metadata and other requests are never held: straight through, without the deadline's timer and signals.
    if (!hasJsonBody(endpoint)) return forward(req, res, path, endpoint, model, body, pending, started, settle);
    if (pending.gone) return settle('aborted');

    try {
      if (endpoint.kind === 'generation') {
        const queuedAt = performance.now();
        // A free slot is taken at once; only a request that waits gets the hold deadline's timer and signal.
        try {
          release = queue.tryAcquire() ?? await queue.acquire(holdSignal(pending, started));
        } catch (err) {
          if (err instanceof QueueFullError) {
            warn('queue_full', 'queue full: request refused', { path, max_queue: config.admission.maxQueue });
            sendGatewayError(res, path, 503, `the gateway's queue is full (${config.admission.maxQueue} requests waiting for Ollama); retry later`, retryAfter);
            return settle('rejected_queue_full');
          }
          if (pending.gone) return settle('aborted');
          metrics.queueWait.observe((performance.now() - queuedAt) / 1000);
          sendGatewayError(res, path, 503, `no slot for this request within ${config.admission.holdTimeoutMs / 1000} s (${config.admission.maxConcurrent} requests at once); retry later`, retryAfter);
          return settle('queue_timeout');
        }
        metrics.queueWait.observe((performance.now() - queuedAt) / 1000);
        // Gone while its slot was handed over: nothing to send.
        if (pending.gone) return settle('aborted');
      }
      await forward(req, res, path, endpoint, model, body, pending, started, settle);
    } catch (err) {
      release?.();
      throw err;
    } finally {
      clearTimeout(pending.holdTimer);
      // Settled before the slot came (the client left as it was handed over): settle could not free it.
      if (settled) release?.();
    }
  }

  /** One deadline for everything before the answer starts (queue and wake): clients such as n8n give up at 300 s. */
  function holdSignal(pending: Pending, started: number): AbortSignal {
    if (!pending.hold) {
      const hold = (pending.hold = new AbortController());
      pending.holdTimer = setTimeout(() => hold.abort(new HoldTimeout()), Math.max(0, started + config.admission.holdTimeoutMs - performance.now()));
    }
    return pending.hold.signal;
  }

  async function forward(
    req: http.IncomingMessage, res: http.ServerResponse, path: string, endpoint: Endpoint, model: string, body: Buffer | http.IncomingMessage,
    pending: Pending, started: number, settle: (outcome: Outcome, tail?: AnswerTail) => void,
  ): Promise<void> {
    let retried = false;
    let woken = false;
    let response: UpstreamAnswer;
    for (;;) {
      try {
        const sent = upstream.send({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });
        pending.abortUpstream = sent.abort;
        response = await sent.response;
        break;
      } catch (err) {
        if (pending.gone) return settle('aborted');
        if (!(err instanceof UpstreamError)) throw err;
        metrics.upstreamErrors.inc({ reason: err.reason });
        const resendable = Buffer.isBuffer(body);
        if (err.staleConnection && resendable && !retried) {
          retried = true;
          continue;
        }
        if (err.unreachable && resendable && waker && !woken && hasJsonBody(endpoint)) {
          const outcome = await Promise.race([waker.wake(), aborted(holdSignal(pending, started))]);
          if (pending.gone) return settle('aborted');
          if (outcome === undefined) {
            sendGatewayError(res, path, 503, `Ollama is starting but was not ready within ${config.admission.holdTimeoutMs / 1000} s; retry`, retryAfter);
            return settle('unavailable');
          }
          if (outcome.result === 'ready') {
            woken = true;
            continue;
          }
          sendGatewayError(res, path, 503, `Ollama is stopped and the wake did not succeed (${outcome.result}): ${outcome.message}`, retryAfter);
          return settle('unavailable');
        }
        if (err.unreachable) {
          warn('unreachable', 'ollama cannot be reached', { upstream: config.upstream.url.origin, code: err.code, wake: waker !== undefined });
          const why = waker && (endpoint.kind === 'metadata' || endpoint.kind === 'other')
            ? '; it is stopped to save memory and a generation request wakes it'
            : waker ? '' : '; no wake is configured';
          sendGatewayError(res, path, 503, `Ollama cannot be reached at ${config.upstream.url.origin} (${err.code ?? err.reason})${why}`, retryAfter);
          return settle('unavailable');
        }
        warn('upstream_error', 'request to ollama failed', { code: err.code, message: err.message });
        sendGatewayError(res, path, 502, `the connection to Ollama failed: ${err.message}`);
        return settle('upstream_error');
      }
    }
    stream(res, endpoint, model, response, started, settle);
  }

  function stream(res: http.ServerResponse, endpoint: Endpoint, model: string, response: UpstreamAnswer, started: number, settle: (outcome: Outcome, tail?: AnswerTail) => void): void {
    const status = response.status;
    const type = response.contentType;
    const ndjson = type.includes('ndjson');
    const streamed = ndjson || type.includes('event-stream');
    const generation = endpoint.kind === 'generation';
    // Every answer gets a tail (settle observes durations of answered requests); only generations are scanned.
    const tail = new AnswerTail();
    const scan = generation && status < 300;
    res.writeHead(status, response.headers);
    // The client sees the head at once even while Ollama loads the model; when the first chunk came with
    // Ollama's head (the usual case), the head leaves with it in one write.
    if (streamed && !response.hasBufferedBody) res.flushHeaders();
    let first = true;
    let lastByte = 0x0a;
    response.attach({
      data(chunk) {
        if (first) {
          first = false;
          if (streamed && generation && status < 300) metrics.timeToFirstToken.observe({ model }, (performance.now() - started) / 1000);
        }
        if (scan) tail.push(chunk);
        lastByte = chunk[chunk.length - 1];
        if (res.write(chunk)) return true;
        res.once('drain', () => response.resume());
        return false;
      },
      end() {
        res.end();
        settle(status < 400 ? 'success' : status < 500 ? 'client_error' : 'upstream_error', tail);
        tail.release();
      },
      broken() {
        if (res.destroyed || res.writableEnded) return;
        metrics.upstreamErrors.inc({ reason: 'broken_stream' });
        warn('broken_stream', 'ollama broke off an answer', { endpoint: endpoint.label, status });
        settle('upstream_error');
        if (ndjson) {
          // As Ollama itself reports an error in mid-stream: one more NDJSON line with "error" (clients throw it).
          res.end(`${lastByte === 0x0a ? '' : '\n'}${JSON.stringify({ error: 'Ollama closed the connection before the answer was complete' })}\n`);
        } else res.destroy();
      },
    });
  }

  const handle: http.RequestListener = (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/metrics' && req.method === 'GET') {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(text);
      });
      return;
    }
    const endpoint = classifyEndpoint(req.method ?? 'GET', path);
    proxy(req, res, path, endpoint, started).catch((err: unknown) => {
      logger.error('request failed', { error: err, path });
      if (!res.headersSent) sendGatewayError(res, path, 500, 'internal gateway error');
      else res.destroy();
    });
  };

  return {
    handle,
    metrics,
    queue,
    poller,
    start() {
      poller.start();
    },
    async close(timeoutMs = 10_000) {
      draining = true;
      poller.stop();
      const deadline = Date.now() + timeoutMs;
      while ((queue.inFlight > 0 || queue.queued > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      upstream.close();
    },
  };
}

function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}
