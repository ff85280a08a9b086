import type { Logger } from '../logger';
import type { GatewayMetrics, WakeResult } from './metrics';

/**
 * Wakes a stopped Ollama through the receiver's wake API (POST /api/v1/targets/NAME/wake, bearer token):
 * the gateway never talks to Docker. Concurrent callers share one wake. After the receiver reports the
 * target ready, the gateway waits until Ollama itself answers (the receiver may probe another address).
 */
export interface WakeOutcome {
  result: WakeResult;
  /** For the client's 503 and the log. */
  message: string;
}

export interface WakeClientOptions {
  receiverUrl: string;
  target: string;
  token?: string;
  timeoutMs: number;
  /** One look at Ollama: does it answer now? */
  upstreamReady: (signal: AbortSignal) => Promise<boolean>;
  metrics: GatewayMetrics;
  logger: Logger;
}

export class WakeClient {
  private current?: Promise<WakeOutcome>;

  constructor(private readonly o: WakeClientOptions) {}

  /** The wake in progress, or a new one. Never rejects. */
  wake(): Promise<WakeOutcome> {
    this.current ??= this.run().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  private async run(): Promise<WakeOutcome> {
    const started = performance.now();
    const deadline = Date.now() + this.o.timeoutMs;
    this.o.logger.info('waking ollama through the receiver', { target: this.o.target });
    const outcome = await this.callReceiver(deadline).then((answer) => answer ?? this.waitForUpstream(deadline));
    this.o.metrics.wakes.inc({ result: outcome.result });
    this.o.metrics.wakeDuration.observe((performance.now() - started) / 1000);
    const level = outcome.result === 'ready' ? 'info' : 'warn';
    this.o.logger[level]('wake finished', { target: this.o.target, result: outcome.result, message: outcome.message, seconds: (performance.now() - started) / 1000 });
    return outcome;
  }

  /** undefined when the receiver reports the target ready; otherwise why not. */
  private async callReceiver(deadline: number): Promise<WakeOutcome | undefined> {
    const seconds = Math.max(1, Math.floor((deadline - Date.now()) / 1000));
    const url = `${this.o.receiverUrl}/api/v1/targets/${encodeURIComponent(this.o.target)}/wake?timeout_seconds=${seconds}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: this.o.token ? { Authorization: `Bearer ${this.o.token}` } : {},
        signal: AbortSignal.timeout(deadline - Date.now() + 2000),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      return { result: timedOut ? 'timeout' : 'failed', message: timedOut ? 'the receiver did not answer the wake in time' : `the receiver cannot be reached: ${causeOf(err)}` };
    }
    const body = (await res.json().catch(() => ({}))) as { result?: string; message?: string; error?: string; reason?: string };
    if (res.status === 200) return undefined;
    if (res.status === 503 && body.result === 'timeout') return { result: 'timeout', message: 'Ollama was started but is not ready yet' };
    const detail = body.message ?? body.error ?? body.reason ?? body.result ?? '';
    return { result: 'failed', message: `the receiver answered the wake with HTTP ${res.status}${detail ? `: ${detail}` : ''}` };
  }

  private async waitForUpstream(deadline: number): Promise<WakeOutcome> {
    for (let pause = 25; ; pause = Math.min(pause * 2, 500)) {
      const left = deadline - Date.now();
      if (left <= 0) return { result: 'timeout', message: 'the receiver reported Ollama ready, but it does not answer the gateway' };
      if (await this.o.upstreamReady(AbortSignal.timeout(Math.min(left, 2000))).catch(() => false)) return { result: 'ready', message: 'ready' };
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
    }
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
