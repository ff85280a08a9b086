import type { ActionOutcome, Step, Submission } from './submission';
import type { ActionOrigin, LifecycleAction } from './types';

export interface Job {
  action: LifecycleAction;
  origin: ActionOrigin;
  force: boolean;
  /** Aborted when a forced request joins a start that waits out a cooldown. */
  skipWait: AbortController;
  outcome: Promise<ActionOutcome>;
  settle: (outcome: ActionOutcome) => void;
}

export interface QueueHooks {
  /** Runs a job to its result; never rejects. */
  run(job: Job): Promise<Step>;
  /** Reports a job's result and settles it (executed: it ran, rather than being dropped before its turn). */
  finish(job: Job, startedAt: number, step: Step, executed: boolean): void;
  /** A request joined an equal job already waiting or running. */
  joined(job: Job, origin: ActionOrigin): void;
  now(): number;
}

/**
 * One target's actions: at most one in flight and one waiting. A stop that meets a start is dropped (the start
 * wins), an equal request joins the job that is already there, a start replaces a waiting stop.
 */
export class ActionQueue {
  current?: Job;
  next?: Job;

  constructor(private readonly hooks: QueueHooks) {}

  submit(action: LifecycleAction, origin: ActionOrigin, force: boolean): Submission {
    const { current, next } = this;
    if (action === 'stop' && (current?.action === 'start' || next?.action === 'start')) {
      return this.dropped(action, origin, 'start_wins');
    }
    const same = next?.action === action ? next : current?.action === action && next === undefined ? current : undefined;
    if (same !== undefined) {
      if (force && !same.force) {
        same.force = true;
        same.skipWait.abort();
      }
      this.hooks.joined(same, origin);
      return { disposition: 'coalesced', outcome: same.outcome };
    }
    if (next !== undefined) {
      // Only a waiting stop can be here (a waiting start would have been joined or would have won above).
      this.next = undefined;
      this.hooks.finish(next, this.hooks.now(), { result: 'suppressed', reason: 'start_wins' }, false);
    }
    const job = newJob(action, origin, force);
    this.next = job;
    this.kick();
    return { disposition: 'queued', outcome: job.outcome };
  }

  /** Drops the waiting job, if any, with this result (shutdown). */
  dropWaiting(step: Step): void {
    const job = this.next;
    if (job === undefined) return;
    this.next = undefined;
    this.hooks.finish(job, this.hooks.now(), step, false);
  }

  private dropped(action: LifecycleAction, origin: ActionOrigin, reason: string): Submission {
    const job = newJob(action, origin, false);
    this.hooks.finish(job, this.hooks.now(), { result: 'suppressed', reason }, false);
    return { disposition: 'suppressed', reason, outcome: job.outcome };
  }

  private kick(): void {
    if (this.current !== undefined || this.next === undefined) return;
    const job = this.next;
    this.next = undefined;
    this.current = job;
    const startedAt = this.hooks.now();
    void this.hooks.run(job).then((step) => {
      this.current = undefined;
      this.hooks.finish(job, startedAt, step, true);
      this.kick();
    });
  }
}

function newJob(action: LifecycleAction, origin: ActionOrigin, force: boolean): Job {
  let settle!: (o: ActionOutcome) => void;
  const outcome = new Promise<ActionOutcome>((resolve) => {
    settle = resolve;
  });
  return { action, origin, force, skipWait: new AbortController(), outcome, settle };
}
