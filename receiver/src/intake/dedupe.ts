/**
 * Remembers what was acted on recently, so that repeated deliveries (Alertmanager retries, HA peers,
 * repeat_interval) act once. Bounded in size; the oldest entries go first.
 */
export class DedupeWindow {
  private readonly seen = new Map<string, { at: number; target: string }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  has(key: string, now: number): boolean {
    const entry = this.seen.get(key);
    if (entry === undefined) return false;
    if (now - entry.at < this.windowMs) return true;
    this.seen.delete(key);
    return false;
  }

  remember(key: string, target: string, now: number): void {
    if (this.windowMs <= 0) return;
    this.seen.delete(key);
    this.seen.set(key, { at: now, target });
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** An action that was not done (suppressed by a guard): the next delivery of the same alert must act again. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  /** After a failed action the next delivery of the same alert must act again. */
  forgetTarget(target: string): void {
    for (const [key, entry] of this.seen) if (entry.target === target) this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }
}
