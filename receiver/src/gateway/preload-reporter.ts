import type { Logger } from '../logger';
import type { PreloadRound } from '../preload-report';
import type { GatewayMetrics, PreloadReportResult } from './metrics';

export interface PreloadReporterOptions {
  /** The wake configuration's receiver and target: the same API, the same token. */
  receiverUrl: string;
  target: string;
  token?: string;
  timeoutMs: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * Tells the receiver how a preload round went (POST /api/v1/targets/NAME/preloads), so that its
 * /api/v1/targets shows the target's last round and ai_dispatcher_preloads_total counts it. The report is
 * informative: a failure is logged and counted (ollama_gateway_preload_reports_total), never retried, and
 * never affects the preload or any request.
 */
export class PreloadReporter {
  constructor(private readonly o: PreloadReporterOptions) {}

  /** Never rejects. */
  async report(round: PreloadRound): Promise<PreloadReportResult> {
    const url = `${this.o.receiverUrl}/api/v1/targets/${encodeURIComponent(this.o.target)}/preloads`;
    let result: PreloadReportResult;
    let detail: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(this.o.token ? { Authorization: `Bearer ${this.o.token}` } : {}) },
        body: JSON.stringify(round),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      detail = (await res.text().catch(() => '')).slice(0, 200);
      result = res.ok ? 'sent' : res.status < 500 ? 'refused' : 'failed';
      if (!res.ok) detail = `HTTP ${res.status}: ${detail}`;
    } catch (err) {
      result = 'failed';
      const cause = (err as { cause?: { code?: string } }).cause;
      detail = cause?.code ?? (err as Error).message;
    }
    this.o.metrics.preloadReports.inc({ result });
    if (result !== 'sent') this.o.logger.warn('preload round not reported to the receiver', { target: this.o.target, result, detail });
    return result;
  }
}
