import type { ActionOrigin, ActionResult, LifecycleAction } from './types';

/** What became of one requested action, once it has run, joined another, or been dropped. */
export interface ActionOutcome {
  target: string;
  action: LifecycleAction;
  origin: ActionOrigin;
  /** 'abandoned': shutdown cut the action short (logged, not counted). */
  result: ActionResult | 'abandoned';
  reason?: string;
  error?: string;
  /** After a start: did the readiness check pass? */
  ready?: boolean;
  durationSeconds: number;
}

/** The part of an outcome that running (or dropping) the action decides; the rest is known beforehand. */
export type Step = Omit<ActionOutcome, 'target' | 'action' | 'origin' | 'durationSeconds'>;

/** What happened to a request at once: it runs (or waits its turn), joins an equal one, or is dropped. */
export type Disposition = 'queued' | 'coalesced' | 'suppressed';

export interface Submission {
  disposition: Disposition;
  reason?: string;
  outcome: Promise<ActionOutcome>;
}

export interface SubmitOptions {
  origin: ActionOrigin;
  /** Manual and wake calls skip the cooldown and the minimum running time. */
  force?: boolean;
}

export class ShuttingDownError extends Error {
  constructor() {
    super('the receiver is shutting down');
    this.name = 'ShuttingDownError';
  }
}
