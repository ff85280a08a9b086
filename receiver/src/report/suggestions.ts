import type { ReportFigures } from './figures';
import { RESTART_WITHIN_SECONDS, WARMUP_TARGET } from './figures';
import { bytes, count, duration, percent } from './format';

/** A suggestion and the observed numbers behind it (never one without the other). */
export interface Suggestion {
  id: string;
  text: string;
  evidence: string;
}

/** Below this share a pattern is noise: no suggestion. */
const MIN_STOPS = 3;
const RESTART_SHARE = 0.3;
const INPUT_MISSING_SHARE = 0.05;
const ERROR_SHARE = 0.05;
const WAKE_WAIT_P95_SECONDS = 10;

/** Suggestions from the figures (pure). Each carries the numbers that led to it. */
export function suggest(f: ReportFigures): Suggestion[] {
  const out: Suggestion[] = [];

  for (const t of f.targets) {
    if (t.stops >= MIN_STOPS && t.stopsFollowedByStart / t.stops >= RESTART_SHARE) {
      const idle = f.idlePeriodSeconds === null ? '' : ` (now ${duration(f.idlePeriodSeconds)})`;
      out.push({
        id: 'idle-period-short',
        text: `Lengthen the idle period ai:threshold:idle_period_seconds${idle}: target ${t.target} is often started again soon after it was stopped.`,
        evidence: `target ${t.target} stopped ${t.stops} times and was started again within ${duration(RESTART_WITHIN_SECONDS)} ${t.stopsFollowedByStart} times (${percent(t.stopsFollowedByStart / t.stops)}).`,
      });
    }
  }

  const m = f.memory;
  if (m && m.samples > 0 && m.threshold !== null && m.percentile !== null && m.triggered === 0) {
    out.push({
      id: 'memory-threshold-never-triggered',
      text: `The ${bytes(m.threshold)} available-memory threshold (ai:threshold:node_memory_available_bytes) never triggered resource_conservation: keep it as a safety net, or raise it towards ${bytes(m.percentile)} to conserve earlier.`,
      evidence: `available memory stayed above ${bytes(m.percentile)} 99 % of the time (minimum ${bytes(m.min!)}) and was below ${bytes(m.threshold)} in 0 of ${m.samples} samples.`,
    });
  } else if (m && m.samples > 0 && m.threshold !== null && m.triggered / m.samples >= 0.5) {
    out.push({
      id: 'memory-threshold-mostly-triggered',
      text: `Available memory is below its threshold most of the time, so clients mostly get the smallest model: lower ai:threshold:node_memory_available_bytes or give the host more memory.`,
      evidence: `available memory was below ${bytes(m.threshold)} in ${m.triggered} of ${m.samples} samples (${percent(m.triggered / m.samples)}).`,
    });
  }

  const c = f.cpu;
  if (c && c.samples > 0 && c.threshold !== null && c.percentile !== null && c.triggered === 0) {
    out.push({
      id: 'cpu-threshold-never-triggered',
      text: `The CPU threshold ${percent(c.threshold)} (ai:threshold:node_cpu_utilisation_ratio) never triggered resource_conservation.`,
      evidence: `CPU utilisation stayed below ${percent(c.percentile)} 99 % of the time (maximum ${percent(c.max!)}) and above ${percent(c.threshold)} in 0 of ${c.samples} samples.`,
    });
  }

  for (const i of f.inputs) {
    if (i.missingRatio >= INPUT_MISSING_SHARE) {
      out.push({
        id: `input-missing-${i.input}`,
        text: `Input ${i.input} was often missing: check the scrape job that feeds it (rules/ai-dispatcher.rules.yml, input groups).`,
        evidence: `ai:input_available{input="${i.input}"} was 0 for ${duration(i.missingSeconds)} of ${duration(i.observedSeconds)} (${percent(i.missingRatio)}).`,
      });
    }
  }

  for (const mdl of f.models) {
    if (mdl.errorRatio !== null && mdl.errorRatio >= ERROR_SHARE) {
      out.push({
        id: `model-errors-${mdl.model}`,
        text: `Model ${mdl.model} fails often: check that it is installed and fits in memory, or move it down its pairs' lists in rules/config/ai-dispatcher.yml.`,
        evidence: `${count(mdl.errors)} of ${count(mdl.requests)} requests to ${mdl.model} failed (${percent(mdl.errorRatio)}).`,
      });
    }
  }

  const wk = f.wakes;
  if (wk && wk.p95Seconds !== null && wk.p95Seconds >= WAKE_WAIT_P95_SECONDS) {
    out.push({
      id: 'wake-wait-long',
      text: 'Requests wait long for a wake: let the warm-up (AIWorkExpectedSoon) start the services before regular work, or lengthen the idle period.',
      evidence: `the gateway woke Ollama ${count(wk.total)} times; 95 % of the wakes took at most ${duration(wk.p95Seconds)} (mean ${duration(wk.meanSeconds ?? 0)}), and requests that arrived while it was stopped waited that long.`,
    });
  }

  const w = f.warmup;
  if (w && w.arrivals > 0 && w.cold > 0) {
    out.push({
      id: 'cold-arrivals',
      text: `Pending AI work often found ${WARMUP_TARGET} stopped: if it comes at regular times, shorten the warm-up's look-back requirements (ai:threshold:warmup_min_days) or lengthen its horizon.`,
      evidence: `${w.cold} of ${w.arrivals} arrivals of pending AI work (${percent(w.cold / w.arrivals)}) found ${WARMUP_TARGET} stopped and waited for a start; the forecast warmed it up for ${w.warmedByForecast}.`,
    });
  }
  if (w && w.forecastStartsWithoutWork >= MIN_STOPS) {
    out.push({
      id: 'warmup-without-work',
      text: 'The warm-up often starts the services for work that does not come: raise ai:threshold:warmup_min_days.',
      evidence: `${w.forecastStartsWithoutWork} starts on the forecast were followed by no work before the next stop; warm-ups held ${w.warmupGiBHours === null ? duration(w.warmupSeconds) : `${w.warmupGiBHours} GiB-hours`}.`,
    });
  }
  return out;
}
