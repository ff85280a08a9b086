/**
 * Copies of the rule files with short periods, for the demo mode, the e2e test and the benchmark. The logic
 * stays as it is; only the values the rules bundle makes configurable change:
 *   - `for:` of the lifecycle alerts (those with an ai_dispatcher_action label),
 *   - the idle period (record ai:threshold:idle_period_seconds),
 *   - the window over which Ollama requests are counted (the range of increase(ollama_requests_total), 2m), which
 *     otherwise keeps "a request happened" true for a minute after the last one, and the same window for a
 *     moved expires_at (ai:ollama_model_expires_at:changes2m).
 * With `warmupDay` (the warm-up benchmark), also the day of the warm-up forecast, so that a compressed week
 * of daily batches has the history the forecast reads (rules/ai-dispatcher-warmup.rules.yml):
 *   - each lead_seconds rule's days back (offset N days - 1h, time() - N days) with a day of daySeconds and the
 *     look-ahead (the rules' 1h) of lookaheadSeconds,
 *   - the group's evaluation interval and the "work seen" window (the rules' 1m),
 *   - the horizon (ai:threshold:warmup_horizon_seconds), in real seconds: a container start and a model load
 *     take as long in a compressed day as in a real one.
 * Every change must find its target: a renamed rule fails here instead of silently keeping the long period.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ruleFilesIn } from './config';

export interface ShortPeriods {
  lifecycleForSeconds: number;
  idlePeriodSeconds: number;
  requestWindowSeconds: number;
  warmupDay?: WarmupDay;
}

interface WarmupDay {
  /** The length of a day (86400 in the rules). */
  daySeconds: number;
  /** How far after this time of day each past day is looked at (1h in the rules); less than a day. */
  lookaheadSeconds: number;
  /** ai:threshold:warmup_horizon_seconds (900 in the configuration). */
  horizonSeconds: number;
  /** The warm-up group's evaluation interval and the window of its "work seen" rule (1m in the rules). */
  evaluationSeconds: number;
}

const WARMUP_SEEN_RULE = 'ai:n8n_pending_ai_work:seen_timestamp_seconds';
const WARMUP_LEAD_RULE = 'ai:n8n_pending_ai_work:lead_seconds';
const WARMUP_DAYS = [1, 2, 3, 4, 5, 6, 7];

export const DEMO_PERIODS: ShortPeriods = { lifecycleForSeconds: 2, idlePeriodSeconds: 20, requestWindowSeconds: 5 };

interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string> }
interface Group { name: string; interval?: string; rules: Rule[] }

export function shortenRules(groups: { groups: Group[] }, p: ShortPeriods, found: Set<string>): void {
  for (const group of groups.groups) {
    if (p.warmupDay) scaleWarmupDay(group, p.warmupDay, found);
    for (const rule of group.rules) {
      if (rule.alert && rule.labels?.ai_dispatcher_action) {
        rule.for = `${p.lifecycleForSeconds}s`;
        found.add(`for:${rule.alert}`);
      }
      if (rule.record === 'ai:threshold:idle_period_seconds') {
        rule.expr = `vector(${p.idlePeriodSeconds})`;
        found.add('idle_period');
      }
      // The increase that says "a request happened recently" (the idle clock restarts while it is > 0).
      if (rule.record && /increase\(ollama_requests_total\{[^}]*\}\[[^\]]+\]\)/.test(rule.expr)) {
        rule.expr = rule.expr.replace(/(increase\(ollama_requests_total\{[^}]*\})\[[^\]]+\]\)/g, `$1[${p.requestWindowSeconds}s])`);
        found.add('request_window');
      }
      // The same window for use seen in a moved expires_at (use that bypassed the gateway).
      if (rule.record === EXPIRY_CHANGES_RULE) {
        rule.expr = shortenExpiryWindow(rule.expr, p.requestWindowSeconds);
        found.add('expiry_window');
      }
    }
  }
}

/** The warm-up forecast with a day of day.daySeconds (see the file comment). */
function scaleWarmupDay(group: Group, day: WarmupDay, found: Set<string>): void {
  if (!(day.lookaheadSeconds > 0 && day.lookaheadSeconds < day.daySeconds && day.evaluationSeconds > 0 && day.horizonSeconds >= 0)) {
    throw new Error(`warm-up day: need 0 < lookahead (${day.lookaheadSeconds}) < day (${day.daySeconds}), evaluation > 0, horizon >= 0`);
  }
  const hasSeen = group.rules.some((r) => r.record === WARMUP_SEEN_RULE);
  if (hasSeen && group.interval === '1m') {
    group.interval = `${day.evaluationSeconds}s`;
    found.add('warmup_interval');
  }
  for (const rule of group.rules) {
    if (rule.record === WARMUP_SEEN_RULE && rule.expr.includes('[1m]')) {
      rule.expr = rule.expr.replace('[1m]', `[${day.evaluationSeconds}s]`);
      found.add('warmup_seen');
    }
    if (rule.record === 'ai:threshold:warmup_horizon_seconds') {
      rule.expr = String(day.horizonSeconds);
      found.add('warmup_horizon');
    }
    const n = Number(rule.labels?.days_ago);
    if (rule.record === WARMUP_LEAD_RULE && WARMUP_DAYS.includes(n)) {
      const range = `[1h] offset ${n * 24 - 1}h)`;
      const dayBack = `(time() - ${n * 86400})`;
      if (!rule.expr.includes(range) || !rule.expr.includes(dayBack)) throw new Error(`warm-up day: ${WARMUP_LEAD_RULE}{days_ago="${n}"} no longer reads ${range} and ${dayBack}`);
      rule.expr = rule.expr
        .replace(range, `[${day.lookaheadSeconds}s] offset ${n * day.daySeconds - day.lookaheadSeconds}s)`)
        .replace(dayBack, `(time() - ${n * day.daySeconds})`);
      found.add(`warmup_lead:${n}`);
    }
  }
}

export const EXPIRY_CHANGES_RULE = 'ai:ollama_model_expires_at:changes2m';

/** The 2m window of changes(...expires_at...) and of its "new series" offset, as the request window. */
export function shortenExpiryWindow(expr: string, seconds: number): string {
  return expr.replace(/\[2m\]/g, `[${seconds}s]`).replace(/offset 2m/g, `offset ${seconds}s`);
}

/** Writes shortened copies of srcDir's rule files into destDir; returns the written files. */
export function writeShortenedRules(destDir: string, p: ShortPeriods, srcDir?: string): string[] {
  fs.mkdirSync(destDir, { recursive: true });
  const found = new Set<string>();
  const written = ruleFilesIn(srcDir).map((file) => {
    const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { groups: Group[] };
    shortenRules(doc, p, found);
    const out = path.join(destDir, path.basename(file));
    fs.writeFileSync(out, `# Shortened copy of ${path.basename(file)} (scripts/stack/short-periods.ts): ${JSON.stringify(p)}\n` + yaml.dump(doc, { lineWidth: -1 }));
    return out;
  });
  const warmup = p.warmupDay ? ['warmup_interval', 'warmup_seen', 'warmup_horizon', 'for:AIWorkExpectedSoon', ...WARMUP_DAYS.map((n) => `warmup_lead:${n}`)] : [];
  for (const needed of ['for:PendingAIWorkflows', 'for:AIServicesIdleTooLong', 'idle_period', 'request_window', 'expiry_window', ...warmup]) {
    if (!found.has(needed)) throw new Error(`short periods: no rule matched ${needed}; update scripts/stack/short-periods.ts to the rules`);
  }
  return written;
}
