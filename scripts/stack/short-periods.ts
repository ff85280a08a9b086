/**
 * Copies of the rule files with short periods, for the demo mode, the e2e test and the benchmark. The logic
 * stays as it is; only the values the rules bundle makes configurable change:
 *   - `for:` of the lifecycle alerts (those with an ai_dispatcher_action label),
 *   - the idle period (record ai:threshold:idle_period_seconds),
 *   - the window over which Ollama requests are counted (the range of increase(ollama_requests_total), 2m), which
 *     otherwise keeps "a request happened" true for a minute after the last one, and the same window for a
 *     moved expires_at (ai:ollama_model_expires_at:changes2m).
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
}

export const DEMO_PERIODS: ShortPeriods = { lifecycleForSeconds: 2, idlePeriodSeconds: 20, requestWindowSeconds: 5 };

interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string> }

export function shortenRules(groups: { groups: Array<{ rules: Rule[] }> }, p: ShortPeriods, found: Set<string>): void {
  for (const group of groups.groups) {
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
    const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    shortenRules(doc, p, found);
    const out = path.join(destDir, path.basename(file));
    fs.writeFileSync(out, `# Shortened copy of ${path.basename(file)} (scripts/stack/short-periods.ts): ${JSON.stringify(p)}\n` + yaml.dump(doc, { lineWidth: -1 }));
    return out;
  });
  for (const needed of ['for:PendingAIWorkflows', 'for:AIServicesIdleTooLong', 'idle_period', 'request_window', 'expiry_window']) {
    if (!found.has(needed)) throw new Error(`short periods: no rule matched ${needed}; update scripts/stack/short-periods.ts to the rules`);
  }
  return written;
}
