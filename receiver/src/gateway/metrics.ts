import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { AdmissionQueue } from './admission-queue';

/**
 * How a request through the gateway ended: the `outcome` label of ollama_requests_total.
 * - success: Ollama answered 2xx and the whole answer reached the client
 * - client_error: Ollama answered 4xx (404 model not found, 400), or the gateway refused bad input
 *   (malformed JSON, missing model, body over the limit, body too slow): never forwarded
 * - upstream_error: Ollama answered 5xx (503 over its own queue too), or broke the connection mid-answer
 * - rejected_queue_full: 503 at once, max_queue requests were already waiting
 * - queue_timeout: 503, held longer than hold_timeout_seconds waiting for a slot
 * - aborted: the client went away before the answer was complete (the upstream request is aborted too)
 * - unavailable: 503, Ollama could not be reached and no wake was configured, or the wake failed or timed out
 */
export const OUTCOMES = ['success', 'client_error', 'upstream_error', 'rejected_queue_full', 'queue_timeout', 'aborted', 'unavailable'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Why the gateway refused a request itself (ollama_gateway_rejected_requests_total{reason}). */
export const REJECT_REASONS = ['invalid_json', 'missing_model', 'body_too_large', 'body_timeout', 'shutting_down'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** ollama_gateway_wakes_total{result}. */
export const WAKE_RESULTS = ['ready', 'failed', 'timeout'] as const;
export type WakeResult = (typeof WAKE_RESULTS)[number];

/**
 * ollama_gateway_preload_reports_total{result}: reports of a preload round to the receiver.
 * sent: 2xx; refused: 4xx (not sent again); failed: 5xx, unreachable or no answer in time.
 */
export const PRELOAD_REPORT_RESULTS = ['sent', 'refused', 'failed'] as const;
export type PreloadReportResult = (typeof PRELOAD_REPORT_RESULTS)[number];

/** ollama_gateway_upstream_errors_total{reason}: connections to Ollama that failed. */
export const UPSTREAM_ERRORS = ['connect_refused', 'dns', 'connect_timeout', 'reset', 'broken_stream', 'other'] as const;
export type UpstreamErrorReason = (typeof UPSTREAM_ERRORS)[number];

export interface GatewayMetrics {
  requests: Counter<'model' | 'endpoint' | 'outcome'>;
  duration: Histogram<'model'>;
  timeToFirstToken: Histogram<'model'>;
  loadDuration: Histogram<'model'>;
  promptTokens: Counter<'model'>;
  generatedTokens: Counter<'model'>;
  up: Gauge;
  installedBytes: Gauge<'model'>;
  loadedBytes: Gauge<'model'>;
  loadedVramBytes: Gauge<'model'>;
  expiresAt: Gauge<'model'>;
  wakes: Counter<'result'>;
  wakeDuration: Histogram;
  queueWait: Histogram;
  rejected: Counter<'reason'>;
  upstreamErrors: Counter<'reason'>;
  polls: Counter<'result'>;
  preloads: Counter<'model' | 'result'>;
  preloadReports: Counter<'result'>;
}

const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Registers every gateway series on the app's own registry. */
export function createGatewayMetrics(registry: Registry, queue: AdmissionQueue, processMetrics = false): GatewayMetrics {
  const registers = [registry];
  if (processMetrics) collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'ollama_requests_in_flight',
    help: 'Generation requests admitted by the gateway (holding one of admission.max_concurrent slots).',
    registers,
    collect() {
      this.set(queue.inFlight);
    },
  });
  new Gauge({
    name: 'ollama_requests_queued',
    help: 'Generation requests waiting in the gateway for a slot (at most admission.max_queue).',
    registers,
    collect() {
      this.set(queue.queued);
    },
  });
  const m: GatewayMetrics = {
    requests: new Counter({ name: 'ollama_requests_total', help: 'Requests through the gateway by model, endpoint and outcome.', labelNames: ['model', 'endpoint', 'outcome'], registers }),
    duration: new Histogram({ name: 'ollama_request_duration_seconds', help: 'Time from a generation request\'s arrival to the end of its answer (queue and wake included).', labelNames: ['model'], buckets: SECONDS_BUCKETS, registers }),
    timeToFirstToken: new Histogram({ name: 'ollama_time_to_first_token_seconds', help: 'Time from a streamed generation request\'s arrival to the first chunk of its answer.', labelNames: ['model'], buckets: SECONDS_BUCKETS, registers }),
    loadDuration: new Histogram({ name: 'ollama_model_load_duration_seconds', help: 'load_duration Ollama reported in a finished generation.', labelNames: ['model'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60], registers }),
    promptTokens: new Counter({ name: 'ollama_prompt_tokens_total', help: 'Prompt tokens Ollama evaluated (prompt_eval_count; prompt_tokens under /v1).', labelNames: ['model'], registers }),
    generatedTokens: new Counter({ name: 'ollama_generated_tokens_total', help: 'Tokens Ollama generated (eval_count; completion_tokens under /v1).', labelNames: ['model'], registers }),
    up: new Gauge({ name: 'ollama_up', help: '1 when Ollama answered the gateway\'s last poll of /api/tags and /api/ps, else 0.', registers }),
    installedBytes: new Gauge({ name: 'ollama_model_installed_bytes', help: 'Size on disk of each installed model (/api/tags).', labelNames: ['model'], registers }),
    loadedBytes: new Gauge({ name: 'ollama_model_loaded_bytes', help: 'Memory of each loaded model (/api/ps size).', labelNames: ['model'], registers }),
    loadedVramBytes: new Gauge({ name: 'ollama_model_loaded_vram_bytes', help: 'VRAM part of each loaded model (/api/ps size_vram).', labelNames: ['model'], registers }),
    expiresAt: new Gauge({ name: 'ollama_model_expires_at_timestamp_seconds', help: 'When each loaded model unloads (/api/ps expires_at; far future for keep_alive -1). Moves on every request.', labelNames: ['model'], registers }),
    wakes: new Counter({ name: 'ollama_gateway_wakes_total', help: 'Wakes of a stopped Ollama through the receiver, by result.', labelNames: ['result'], registers }),
    wakeDuration: new Histogram({ name: 'ollama_gateway_wake_duration_seconds', help: 'Time from the start of a wake until Ollama answered (or the wake gave up).', buckets: [0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers }),
    queueWait: new Histogram({ name: 'ollama_gateway_queue_wait_seconds', help: 'Time generation requests waited for a slot.', buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300], registers }),
    rejected: new Counter({ name: 'ollama_gateway_rejected_requests_total', help: 'Requests the gateway answered itself without forwarding, by reason.', labelNames: ['reason'], registers }),
    upstreamErrors: new Counter({ name: 'ollama_gateway_upstream_errors_total', help: 'Failed connections to Ollama, by reason.', labelNames: ['reason'], registers }),
    preloads: new Counter({ name: 'ollama_gateway_preloads_total', help: 'Model loads after Ollama came up (the recommended model of the configured pairs), by model and result.', labelNames: ['model', 'result'], registers }),
    preloadReports: new Counter({ name: 'ollama_gateway_preload_reports_total', help: 'Reports of a preload round to the receiver (shown in its /api/v1/targets), by result.', labelNames: ['result'], registers }),
    polls: new Counter({ name: 'ollama_gateway_polls_total', help: 'Polls of Ollama\'s /api/tags and /api/ps, by result.', labelNames: ['result'], registers }),
  };
  for (const r of WAKE_RESULTS) m.wakes.inc({ result: r }, 0);
  for (const r of REJECT_REASONS) m.rejected.inc({ reason: r }, 0);
  for (const r of UPSTREAM_ERRORS) m.upstreamErrors.inc({ reason: r }, 0);
  for (const r of PRELOAD_REPORT_RESULTS) m.preloadReports.inc({ result: r }, 0);
  for (const r of ['success', 'failure']) m.polls.inc({ result: r }, 0);
  return m;
}
