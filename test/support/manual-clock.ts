import type { Clock } from '../../receiver/src/clock';

/** A clock the test moves: sleep() advances time at once instead of waiting. */
export class ManualClock implements Clock {
  constructor(public current = Date.parse('2026-11-25T12:00:00Z')) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.current += ms;
    await Promise.resolve();
  }
}
