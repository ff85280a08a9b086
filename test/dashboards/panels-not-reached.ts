/**
 * The dashboard targets that return no data in a live stack, each with the reason: data that only exists in a
 * state that stack does not reach. Keyed "<dashboard file> / <panel title> / <refId>" (PanelTarget.label).
 * One list for every live test: panels-stack.test.ts (`npm run stack` in dry-run) and the end-to-end loop
 * (test/e2e/loop.test.ts, the same stack on a real Docker engine). Each test also checks that the targets it
 * lists really are empty, so a list cannot go stale.
 */
const R = 'ai-dispatcher-receiver.json / ';
const M = 'ai-model-dispatcher.json / ';

/** Without data in any stack that runs the stand-in exporter (`npm run stack`, the e2e loop). */
export const STAND_IN_NOT_REACHED: Readonly<Record<string, string>> = {
  [`${M}Warm-up forecast / A`]: 'needs AI work pending on a previous day at this time of day: a live stack has no day of history',
  [`${M}Errors by model / A`]: 'no request through the stack\'s gateway fails (the stand-in answers every one), so no failed outcome is counted',
};

const UNOBSERVED = 'dry-run without a Docker engine: the receiver cannot observe the targets, so their state series are absent (unknown, not 0); panels-live.test.ts covers them';
const NOT_EXECUTED = 'dry-run starts nothing, so no readiness wait is observed (the quantiles over zero counts are NaN); panels-live.test.ts covers them';

/** Also without data when the receiver runs in dry-run without a Docker engine (panels-stack.test.ts). */
export const DRY_RUN_NOT_REACHED: Readonly<Record<string, string>> = {
  ...STAND_IN_NOT_REACHED,
  [`${R}Targets running / A`]: UNOBSERVED,
  [`${R}Target state / A`]: UNOBSERVED,
  [`${R}Target state / B`]: UNOBSERVED,
  [`${R}Time since last transition / A`]: UNOBSERVED,
  [`${M}AI targets running and ready / A`]: UNOBSERVED,
  [`${M}AI targets running and ready / B`]: UNOBSERVED,
  [`${M}Time stopped (last hour) / A`]: UNOBSERVED,
  [`${M}Time stopped (last 24 h) / A`]: UNOBSERVED,
  [`${M}Share of the hour stopped / A`]: UNOBSERVED,
  [`${M}Memory-hours saved (last 24 h) / A`]: UNOBSERVED,
  [`${R}Readiness wait / A`]: NOT_EXECUTED,
  [`${R}Readiness wait / B`]: NOT_EXECUTED,
};
