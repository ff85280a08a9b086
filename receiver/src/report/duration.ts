import { ReportError } from './report-error';

const UNITS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
const MAX_SECONDS = 90 * 86400;

/** A Prometheus-style duration ("7d", "1d12h", "90m") in seconds, between 10 minutes and 90 days. */
export function parseRange(text: string): number {
  const parts = /^(?:\d+[wdhms])+$/.test(text) ? [...text.matchAll(/(\d+)([wdhms])/g)] : null;
  if (!parts) throw new ReportError(`--range "${text}" is not a duration like 7d, 24h or 1d12h`);
  const seconds = parts.reduce((acc, m) => acc + Number(m[1]) * UNITS[m[2]], 0);
  if (seconds < 600 || seconds > MAX_SECONDS) throw new ReportError(`--range ${text} must be between 10m and 90d`);
  return seconds;
}

/** --end: RFC 3339 or Unix seconds. */
export function parseEnd(text: string): number {
  const t = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(t)) throw new ReportError(`--end "${text}" is neither an RFC 3339 time nor Unix seconds`);
  return t;
}
