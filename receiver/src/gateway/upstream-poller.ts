import type { Logger } from '../logger';
import type { GatewayMetrics } from './metrics';
import type { ModelLabels } from './model-label';

/**
 * Polls Ollama's /api/tags (installed models) and /api/ps (loaded models) into gauges; ollama_up says
 * whether both answered. While Ollama is down, no model is loaded (the loaded-model series vanish) and the
 * installed models keep their last known size: they are still on disk.
 */
interface TagsAnswer { models?: Array<{ name?: unknown; size?: unknown }> }
interface PsAnswer { models?: Array<{ name?: unknown; size?: unknown; size_vram?: unknown; expires_at?: unknown }> }

export class UpstreamPoller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<boolean>;
  private lastUp?: boolean;

  constructor(
    private readonly upstream: URL,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly metrics: GatewayMetrics,
    private readonly labels: ModelLabels,
    private readonly logger: Logger,
    /** Called when Ollama answers again after polls it did not answer (it was started). */
    private readonly onBackUp?: () => void,
  ) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One poll (concurrent callers share it); true when Ollama answered both. */
  poll(): Promise<boolean> {
    this.running ??= this.pollOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pollOnce(): Promise<boolean> {
    let up = false;
    try {
      const [tags, ps] = await Promise.all([this.get<TagsAnswer>('/api/tags'), this.get<PsAnswer>('/api/ps')]);
      this.recordInstalled(tags);
      this.recordLoaded(ps);
      up = true;
    } catch (err) {
      this.metrics.loadedBytes.reset();
      this.metrics.loadedVramBytes.reset();
      this.metrics.expiresAt.reset();
      if (this.lastUp !== false) this.logger.warn('ollama does not answer the poll', { error: (err as Error).message });
    }
    if (up && this.lastUp === false) {
      this.logger.info('ollama answers the poll again');
      this.onBackUp?.();
    }
    this.lastUp = up;
    this.metrics.up.set(up ? 1 : 0);
    this.metrics.polls.inc({ result: up ? 'success' : 'failure' });
    return up;
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(new URL(path, this.upstream), { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${path}: HTTP ${res.status}`);
    }
    return (await res.json()) as T;
  }

  private recordInstalled(tags: TagsAnswer): void {
    const models = (tags.models ?? []).filter((m): m is { name: string; size: number } => typeof m.name === 'string' && typeof m.size === 'number');
    this.labels.setInstalled(models.map((m) => m.name));
    this.metrics.installedBytes.reset();
    for (const m of models) this.metrics.installedBytes.set({ model: m.name }, m.size);
  }

  private recordLoaded(ps: PsAnswer): void {
    this.metrics.loadedBytes.reset();
    this.metrics.loadedVramBytes.reset();
    this.metrics.expiresAt.reset();
    for (const m of ps.models ?? []) {
      if (typeof m.name !== 'string') continue;
      if (typeof m.size === 'number') this.metrics.loadedBytes.set({ model: m.name }, m.size);
      if (typeof m.size_vram === 'number') this.metrics.loadedVramBytes.set({ model: m.name }, m.size_vram);
      const expires = typeof m.expires_at === 'string' ? Date.parse(m.expires_at) : NaN;
      if (Number.isFinite(expires)) this.metrics.expiresAt.set({ model: m.name }, expires / 1000);
    }
  }
}
