import type { PreloadOutcome, PreloadRound } from '../preload-report';

/** A target's last model preload round, as GET /api/v1/targets shows it (lastPreload). */
export interface PreloadRecord {
  /** When the round ended, by the gateway's clock. */
  at: string;
  /** When the receiver took the report in, by its own clock. */
  receivedAt: string;
  models: PreloadOutcome[];
  /** True when every model of the round was loaded. */
  allLoaded: boolean;
}

/** Pure: what the receiver keeps of a (validated) round; one per target, replaced by the next round. */
export function preloadRecord(round: PreloadRound, now: number): PreloadRecord {
  const models = round.models.map(({ model, result }) => ({ model, result }));
  return {
    at: new Date(Date.parse(round.at)).toISOString(),
    receivedAt: new Date(now).toISOString(),
    models,
    allLoaded: models.every((m) => m.result === 'loaded'),
  };
}
