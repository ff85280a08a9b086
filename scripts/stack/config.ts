/**
 * The configuration files of the local stack, derived from the repository's own files so that the
 * stack runs what users run: rules/*.yml as they are, and rules/alertmanager/alertmanager.yml with only
 * the receiver URL, the credentials file and the timings swapped. Pure functions: the stack, the e2e test
 * and the benchmark all write their files with these.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export const repoRoot = path.join(__dirname, '../..');

export interface Timings {
  /** Prometheus scrape and rule evaluation interval, seconds. */
  scrapeSeconds: number;
  evaluationSeconds: number;
  /** Alertmanager's lifecycle route. */
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
  repeatIntervalSeconds: number;
}

/** Production-like defaults (Prometheus 15 s) and the fast demo mode (1 s). */
export const NORMAL_TIMINGS: Timings = { scrapeSeconds: 15, evaluationSeconds: 15, groupWaitSeconds: 5, groupIntervalSeconds: 60, repeatIntervalSeconds: 600 };
export const FAST_TIMINGS: Timings = { scrapeSeconds: 1, evaluationSeconds: 1, groupWaitSeconds: 1, groupIntervalSeconds: 1, repeatIntervalSeconds: 60 };

export interface ScrapeTarget { job: string; address: string; metricsPath?: string }

export interface PrometheusOptions {
  timings: Timings;
  ruleFiles: string[];
  alertmanager: string;
  targets: ScrapeTarget[];
}

export function prometheusConfig(o: PrometheusOptions): string {
  return yaml.dump({
    global: { scrape_interval: `${o.timings.scrapeSeconds}s`, evaluation_interval: `${o.timings.evaluationSeconds}s`,
      scrape_timeout: `${Math.min(o.timings.scrapeSeconds, 10)}s` },
    rule_files: o.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [o.alertmanager] }] }] },
    scrape_configs: o.targets.map((t) => ({
      job_name: t.job,
      ...(t.metricsPath ? { metrics_path: t.metricsPath } : {}),
      static_configs: [{ targets: [t.address] }],
    })),
  }, { lineWidth: -1 });
}

/** The rule files a Prometheus of ours loads: the top-level *.yml of rules/ (as promtool checks them) or of dir. */
export function ruleFilesIn(dir = path.join(repoRoot, 'rules')): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface AlertmanagerOptions {
  timings: Timings;
  webhookUrl: string;
  credentialsFile: string;
}

/** rules/alertmanager/alertmanager.yml with the receiver's address, the token file and the timings replaced. */
export function alertmanagerConfig(o: AlertmanagerOptions, root = repoRoot): string {
  const config = yaml.load(readFileSync(path.join(root, 'rules/alertmanager/alertmanager.yml'), 'utf8')) as any;
  const hooks = config.receivers.flatMap((r: any) => r.webhook_configs ?? []);
  if (hooks.length !== 1) throw new Error('rules/alertmanager/alertmanager.yml: expected exactly one webhook (the receiver)');
  hooks[0].url = o.webhookUrl;
  hooks[0].http_config.authorization.credentials_file = o.credentialsFile;
  const lifecycle = config.route.routes.find((r: any) => r.receiver === 'ai-dispatcher');
  lifecycle.group_wait = `${o.timings.groupWaitSeconds}s`;
  lifecycle.group_interval = `${o.timings.groupIntervalSeconds}s`;
  lifecycle.repeat_interval = `${o.timings.repeatIntervalSeconds}s`;
  return yaml.dump(config, { lineWidth: -1 });
}

/** The receiver's periods: anti-flapping guards, refresh, and how long a delivery counts as a duplicate. */
export interface ReceiverPeriods {
  minRunningSeconds: number;
  cooldownSeconds: number;
  refreshIntervalSeconds: number;
  /** webhook.dedupe_window_seconds; undefined: the receiver's default (120 s). */
  dedupeWindowSeconds?: number;
}

/** The receiver's defaults, and the fast mode's short periods so that a demo loop completes in seconds. */
export const NORMAL_RECEIVER_PERIODS: ReceiverPeriods = { minRunningSeconds: 600, cooldownSeconds: 60, refreshIntervalSeconds: 15 };
export const FAST_RECEIVER_PERIODS: ReceiverPeriods = { minRunningSeconds: 5, cooldownSeconds: 1, refreshIntervalSeconds: 1, dedupeWindowSeconds: 5 };

export interface ReceiverOptions extends ReceiverPeriods {
  listen: string;
  dockerHost?: string;
  container: string;
  readinessUrl: string;
}

export function receiverConfig(o: ReceiverOptions): string {
  return yaml.dump({
    listen: o.listen,
    ...(o.dockerHost ? { docker: { host: o.dockerHost } } : {}),
    refresh_interval_seconds: o.refreshIntervalSeconds,
    ...(o.dedupeWindowSeconds !== undefined ? { webhook: { dedupe_window_seconds: o.dedupeWindowSeconds } } : {}),
    targets: {
      ollama: {
        members: [{ container: o.container }],
        readiness: { type: 'http', url: o.readinessUrl, timeout_seconds: 30, interval_seconds: 0.1 },
        min_running_seconds: o.minRunningSeconds,
        cooldown_seconds: o.cooldownSeconds,
        stop_timeout_seconds: 5,
      },
    },
  }, { lineWidth: -1 });
}

export interface GatewayOptions {
  listen: string;
  ollamaUrl: string;
  /** The receiver, when it manages a real container: the gateway wakes it on request. */
  receiverUrl?: string;
  pollSeconds: number;
  /** Load the recommended model of these pairs after Ollama comes up (Prometheus at prometheusUrl). */
  preload?: { prometheusUrl: string; pairs: Array<{ complexity: string; task_type: string }> };
}

/** The Ollama gateway in front of the stand-in (one request at a time, as Ollama's default OLLAMA_NUM_PARALLEL). */
export function gatewayConfig(o: GatewayOptions): string {
  return yaml.dump({
    listen: o.listen,
    upstream: { url: o.ollamaUrl },
    admission: { max_concurrent: 1, max_queue: 512 },
    poll: { interval_seconds: o.pollSeconds },
    ...(o.receiverUrl ? { wake: { receiver_url: o.receiverUrl, target: 'ollama', timeout_seconds: 60 } } : {}),
    ...(o.preload ? { preload: { prometheus_url: o.preload.prometheusUrl, pairs: o.preload.pairs } } : {}),
  });
}
