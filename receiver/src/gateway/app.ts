import type http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import { AdmissionQueue } from './admission-queue';
import type { GatewayConfig } from './config';
import { classifyEndpoint } from './endpoints';
import { Exchange, type ExchangeContext } from './exchange';
import { Upstream } from './forward';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { ModelLabels } from './model-label';
import { BodyReader } from './request-body';
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
  let draining = false;
  const lastWarned = new Map<string, number>();
  /** At most one line per kind of problem every 10 s: a flood of bad requests must not flood the log. */
  const warn = (key: string, msg: string, fields: Record<string, unknown>) => {
    const now = Date.now();
    if ((lastWarned.get(key) ?? 0) + 10_000 > now) return;
    lastWarned.set(key, now);
    logger.warn(msg, fields);
  };
  const bodies = new BodyReader(config.limits.bodyLimitBytes, config.limits.bodyTimeoutMs);
  const context: ExchangeContext = { config, metrics, labels, queue, upstream, bodies, waker, logger, warn, draining: () => draining };

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
    const exchange = new Exchange(context, req, res, path, classifyEndpoint(req.method ?? 'GET', path), started);
    try {
      exchange.start();
    } catch (err) {
      exchange.fail(err);
    }
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
      bodies.close();
      const deadline = Date.now() + timeoutMs;
      while ((queue.inFlight > 0 || queue.queued > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      upstream.close();
    },
  };
}
