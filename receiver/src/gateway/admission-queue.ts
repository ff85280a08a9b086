/**
 * The gateway's queue: at most maxConcurrent requests hold a slot (are forwarded to Ollama) at once, up to
 * maxQueue more wait in arrival order, and any further request is refused at once. `queued` is exactly
 * the requests waiting; a waiter that gives up (client gone, hold timeout) leaves the queue at once.
 */
export type Release = () => void;

export class QueueFullError extends Error {
  constructor() {
    super('queue full');
  }
}

interface Waiter {
  grant: (release: Release) => void;
}

export class AdmissionQueue {
  private holding = 0;
  // A Set keeps arrival order and removes a waiter that gives up in O(1).
  private readonly waiting = new Set<Waiter>();

  constructor(readonly maxConcurrent: number, readonly maxQueue: number) {}

  get inFlight(): number {
    return this.holding;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** A slot when one is free (then nobody waits), else undefined: acquire() waits for one. */
  tryAcquire(): Release | undefined {
    if (this.holding >= this.maxConcurrent) return undefined;
    this.holding++;
    return this.releaser();
  }

  /**
   * A slot: at once when one is free, else after waiting. Throws QueueFullError when maxQueue requests
   * already wait; rejects with the signal's reason when it aborts while waiting.
   */
  acquire(signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.holding < this.maxConcurrent) {
      this.holding++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.size >= this.maxQueue) return Promise.reject(new QueueFullError());
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        this.waiting.delete(waiter);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
    });
  }

  /** Each release runs once: the slot passes to the first waiter, or becomes free. */
  private releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.values().next();
      if (!next.done) {
        this.waiting.delete(next.value);
        next.value.grant(this.releaser());
      } else this.holding--;
    };
  }
}
