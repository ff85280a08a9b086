import type { RangeSeries } from './prometheus-client';

/**
 * The series the report reads, each as a range query, with what a user must load or scrape when it
 * is absent. Counters and histograms are read raw (one series per scraped instance) so that their
 * increase is computed per series, resets included.
 */
export interface ReportQuery {
  expr: string;
  /** What to load or scrape when the query returns nothing over the range. */
  source: string;
}

const USAGE_RULES = 'load rules/ai-dispatcher-usage.rules.yml (with ai-dispatcher.rules.yml) and scrape the receiver (job ai-dispatcher)';
const BUNDLE = 'load rules/ai-dispatcher.rules.yml';
const GATEWAY = 'scrape the ai-dispatcher gateway as job "ollama" (receiver/README.md, Gateway)';

export const QUERIES = {
  running: { expr: 'target:ai_dispatcher_target_running:max', source: USAGE_RULES },
  memory: {
    expr: 'ai:ollama_container_memory_working_set_bytes:max',
    source: `${BUNDLE} and scrape cAdvisor (job cadvisor, container name ollama)`,
  },
  branches: { expr: 'priority:ai_recommended_model:count', source: USAGE_RULES },
  inputs: { expr: 'ai:input_available', source: BUNDLE },
  memoryAvailable: { expr: 'ai:node_memory_MemAvailable_bytes:min', source: `${BUNDLE} and scrape the node exporter (job node)` },
  memoryThreshold: { expr: 'ai:threshold:node_memory_available_bytes', source: BUNDLE },
  cpu: { expr: 'ai:node_cpu_utilisation:max_rate2m', source: `${BUNDLE} and scrape the node exporter (job node)` },
  cpuThreshold: { expr: 'ai:threshold:node_cpu_utilisation_ratio', source: BUNDLE },
  idlePeriod: { expr: 'ai:threshold:idle_period_seconds', source: BUNDLE },
  pending: { expr: 'ai:n8n_pending_ai_work:sum', source: `${BUNDLE} and scrape n8n (job n8n)` },
  expectedSoon: { expr: 'ai:n8n_pending_ai_work:expected_soon', source: 'load rules/ai-dispatcher-warmup.rules.yml (the warm-up)' },
  actions: { expr: 'ai_dispatcher_actions_total{job="ai-dispatcher"}', source: 'scrape the receiver (job ai-dispatcher)' },
  wakes: { expr: 'ollama_gateway_wakes_total{job="ollama"}', source: GATEWAY },
  wakeDurationBuckets: { expr: 'ollama_gateway_wake_duration_seconds_bucket{job="ollama"}', source: GATEWAY },
  wakeDurationSum: { expr: 'ollama_gateway_wake_duration_seconds_sum{job="ollama"}', source: GATEWAY },
  preloads: { expr: 'ollama_gateway_preloads_total{job="ollama"}', source: `${GATEWAY} with its preload block` },
  requests: { expr: 'ollama_requests_total{job="ollama"}', source: GATEWAY },
  durationBuckets: { expr: 'ollama_request_duration_seconds_bucket{job="ollama"}', source: GATEWAY },
  durationSum: { expr: 'ollama_request_duration_seconds_sum{job="ollama"}', source: GATEWAY },
} satisfies Record<string, ReportQuery>;

export type QueryName = keyof typeof QUERIES;
export type QueryResults = Record<QueryName, RangeSeries[]>;
