import type { Logger } from '../logger';
import { MODEL_NAME, type PreloadOutcome, type PreloadResult } from '../preload-report';
import type { GatewayMetrics } from './metrics';
import type { ModelLabels } from './model-label';

/**
 * After Ollama comes up (started by an alert, the warm-up, a wake or by hand: the poller sees it answer
 * again), loads the model the rules recommend now for the configured (complexity, task_type) pairs, so the
 * first real request does not pay the load. Ollama loads a model on a generate request with an empty
 * prompt and keeps it for keep_alive. Each distinct model is loaded once, one after the other (two large
 * loads at once would compete for memory). Counted in ollama_gateway_preloads_total{model, result}.
 */
export interface PreloadOptions {
  upstream: URL;
  /** Prometheus base URL that records ai:recommended_model_options. */
  prometheusUrl: string;
  pairs: Array<{ complexity: string; taskType: string }>;
  /** keep_alive of the load request, Ollama's format ("30m", "-1", seconds as a number). */
  keepAlive: string | number;
  timeoutMs: number;
  metrics: GatewayMetrics;
  labels: ModelLabels;
  logger: Logger;
}

/** The documented client query (rules/README.md): per pair, the row recorded last. */
const RECOMMENDATION_QUERY = 'topk by (complexity, task_type) (1, timestamp(ai:recommended_model_options))';

interface QueryAnswer {
  status?: string;
  data?: { result?: Array<{ metric?: Record<string, string> }> };
}

export class ModelPreloader {
  private running?: Promise<PreloadOutcome[]>;

  constructor(private readonly o: PreloadOptions) {}

  /** One preload round (a round already running is shared). Never throws. */
  preload(): Promise<PreloadOutcome[]> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<PreloadOutcome[]> {
    let models: string[];
    try {
      models = await this.recommendedModels();
    } catch (err) {
      this.o.metrics.preloads.inc({ model: '', result: 'no_recommendation' });
      this.o.logger.warn('no model to preload: the recommendation cannot be read', { error: (err as Error).message });
      return [{ model: '', result: 'no_recommendation' }];
    }
    if (models.length === 0) {
      this.o.metrics.preloads.inc({ model: '', result: 'no_recommendation' });
      this.o.logger.warn('no model to preload: Prometheus has no recommendation for the configured pairs');
      return [{ model: '', result: 'no_recommendation' }];
    }
    const results: PreloadOutcome[] = [];
    for (const model of models) {
      const started = performance.now();
      const result = await this.load(model);
      this.o.metrics.preloads.inc({ model: this.o.labels.label(model), result });
      this.o.logger.info('model preload', { model, result, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
      results.push({ model, result });
    }
    return results;
  }

  /** The distinct models recommended now for the configured pairs, in the order of the pairs. */
  private async recommendedModels(): Promise<string[]> {
    const url = `${this.o.prometheusUrl.replace(/\/+$/, '')}/api/v1/query?${new URLSearchParams({ query: RECOMMENDATION_QUERY })}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json().catch(() => ({}))) as QueryAnswer;
    if (!res.ok || body.status !== 'success') throw new Error(`Prometheus answered HTTP ${res.status}`);
    const rows = body.data?.result ?? [];
    const models: string[] = [];
    for (const pair of this.o.pairs) {
      const row = rows.find((r) => r.metric?.complexity === pair.complexity && r.metric?.task_type === pair.taskType);
      const model = row?.metric?.model;
      if (typeof model === 'string' && MODEL_NAME.test(model) && !models.includes(model)) models.push(model);
    }
    return models;
  }

  private async load(model: string): Promise<PreloadResult> {
    try {
      const res = await fetch(new URL('/api/generate', this.o.upstream), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, prompt: '', stream: false, keep_alive: this.o.keepAlive }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) {
        this.o.logger.warn('model preload refused by Ollama', { model, status: res.status, body: text.slice(0, 200) });
        return 'failed';
      }
      return 'loaded';
    } catch (err) {
      this.o.logger.warn('model preload failed', { model, error: (err as Error).message });
      return 'failed';
    }
  }
}
