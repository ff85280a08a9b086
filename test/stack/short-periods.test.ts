/**
 * The short-period rule copies (demo mode, e2e test, benchmark): promtool accepts them, only the configurable
 * periods change, and a rules change that removes a target fails loudly instead of keeping a long period.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { ruleFilesIn } from '../../scripts/stack/config';
import { EXPIRY_CHANGES_RULE, shortenExpiryWindow, writeShortenedRules } from '../../scripts/stack/short-periods';

const periods = { lifecycleForSeconds: 1, idlePeriodSeconds: 7, requestWindowSeconds: 3 };
let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'short-periods-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> };
const rulesOf = (files: string[]) => files.flatMap((f) => (yaml.load(fs.readFileSync(f, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules));

describe('short-period rule copies', () => {
  it('pass promtool check rules', () => {
    const files = writeShortenedRules(path.join(dir, 'ok'), periods);
    const res = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).not.toContain('FAILED');
    expect(res.status).toBe(0);
  });

  it('change only the lifecycle for:, the idle period and the request window', () => {
    const original = rulesOf(ruleFilesIn());
    const copy = rulesOf(writeShortenedRules(path.join(dir, 'diff'), periods));
    expect(copy).toHaveLength(original.length);
    const changed = copy.map((rule, i) => [original[i], rule] as const).filter(([a, b]) => JSON.stringify(a) !== JSON.stringify(b));
    for (const [before, after] of changed) {
      if (after.alert) {
        expect(before.labels?.ai_dispatcher_action).toBeDefined();
        expect({ ...after, for: before.for }).toEqual(before);
        expect(after.for).toBe('1s');
      } else if (after.record === 'ai:threshold:idle_period_seconds') {
        expect(after.expr).toBe('vector(7)');
      } else if (after.record === EXPIRY_CHANGES_RULE) {
        expect(after.expr).toBe(shortenExpiryWindow(before.expr, 3));
        expect(after.expr).toContain('[3s]');
        expect(after.expr).toContain('offset 3s');
      } else {
        expect(after.expr).toBe(before.expr.replace(/(increase\(ollama_requests_total\{[^}]*\})\[[^\]]+\]\)/g, '$1[3s])'));
        expect(after.expr).not.toBe(before.expr);
      }
    }
    expect(changed.filter(([, r]) => r.alert).map(([, r]) => r.alert).sort()).toEqual(['AIServicesIdleTooLong', 'AIWorkExpectedSoon', 'PendingAIWorkflows']);
    // Other alerts keep their periods.
    const others = copy.filter((r) => r.alert && !r.labels?.ai_dispatcher_action);
    expect(others.length).toBeGreaterThan(0);
    for (const r of others) expect(r.for).toBe(original.find((o) => o.alert === r.alert)!.for);
  });

  it('fail loudly when the rules no longer have what they shorten', () => {
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    for (const f of ruleFilesIn()) {
      const text = fs.readFileSync(f, 'utf8').replace(/ai:threshold:idle_period_seconds/g, 'ai:threshold:idle_after_seconds');
      fs.writeFileSync(path.join(src, path.basename(f)), text);
    }
    expect(() => writeShortenedRules(path.join(dir, 'renamed'), periods, src)).toThrow(/no rule matched idle_period/);
  });
});

describe('a compressed day for the warm-up benchmark', () => {
  // A day of 600 s, looking 60 s ahead, warming up 30 s ahead, evaluated every 5 s.
  const day = { daySeconds: 600, lookaheadSeconds: 60, horizonSeconds: 30, evaluationSeconds: 5 };
  const withDay = { ...periods, warmupDay: day };

  it('changes only the forecast\'s days, look-ahead, horizon and evaluation interval, and passes promtool check rules', () => {
    const plain = rulesOf(writeShortenedRules(path.join(dir, 'plain'), periods));
    const files = writeShortenedRules(path.join(dir, 'day'), withDay);
    const scaled = rulesOf(files);
    const changed = scaled.map((rule, i) => [plain[i], rule] as const).filter(([a, b]) => JSON.stringify(a) !== JSON.stringify(b));
    expect(changed.map(([, r]) => `${r.record}${r.labels?.days_ago ?? ''}`).sort()).toEqual([
      'ai:n8n_pending_ai_work:lead_seconds1', 'ai:n8n_pending_ai_work:lead_seconds2', 'ai:n8n_pending_ai_work:lead_seconds3',
      'ai:n8n_pending_ai_work:lead_seconds4', 'ai:n8n_pending_ai_work:lead_seconds5', 'ai:n8n_pending_ai_work:lead_seconds6',
      'ai:n8n_pending_ai_work:lead_seconds7', 'ai:n8n_pending_ai_work:seen_timestamp_seconds', 'ai:threshold:warmup_horizon_seconds',
    ]);
    const lead = (n: number) => scaled.find((r) => r.record === 'ai:n8n_pending_ai_work:lead_seconds' && r.labels?.days_ago === String(n))!.expr;
    expect(lead(1)).toBe('min_over_time(ai:n8n_pending_ai_work:seen_timestamp_seconds[60s] offset 540s) - (time() - 600)');
    expect(lead(7)).toBe('min_over_time(ai:n8n_pending_ai_work:seen_timestamp_seconds[60s] offset 4140s) - (time() - 4200)');
    const warmupFile = files.find((f) => path.basename(f) === 'ai-dispatcher-warmup.rules.yml')!;
    expect((yaml.load(fs.readFileSync(warmupFile, 'utf8')) as { groups: Array<{ interval: string }> }).groups[0].interval).toBe('5s');
    const res = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).not.toContain('FAILED');
    expect(res.status).toBe(0);
  });

  it('forecasts a compressed daily batch horizonSeconds ahead (promtool test rules): not without history, not two days later', () => {
    const files = writeShortenedRules(path.join(dir, 'day-test'), withDay);
    const warmupFile = files.find((f) => path.basename(f) === 'ai-dispatcher-warmup.rules.yml')!;
    // Work pending on day 1 from 400 s to 435 s (one sample every 5 s; 120 a day; 3 days).
    const expected = (t: number, v: number) => ({ expr: 'ai:n8n_pending_ai_work:expected_soon', eval_time: `${t}s`, exp_samples: [{ labels: 'ai:n8n_pending_ai_work:expected_soon', value: v }] });
    const test = {
      rule_files: [warmupFile],
      evaluation_interval: '5s',
      tests: [{
        interval: '5s',
        input_series: [
          { series: 'ai:n8n_pending_ai_work:sum', values: '0x79 1x7 0x271' },
          { series: 'ai:threshold:warmup_horizon_seconds', values: '30x360' },
          { series: 'ai:threshold:warmup_min_days', values: '2x360' },
          { series: 'ai:threshold:warmup_yesterday', values: '1x360' },
          { series: 'ai:threshold:warmup_last_week', values: '1x360' },
        ],
        promql_expr_test: [
          expected(370, 0), // day 1: no history
          expected(600 + 365, 0), // day 2: 35 s ahead of yesterday's batch: beyond the horizon
          expected(600 + 370, 1), // 30 s ahead
          expected(600 + 400, 1),
          expected(600 + 470, 0), // after the batch's time
          expected(1200 + 370, 0), // day 3: one day of the last 7 (fewer than 2), not yesterday, not a week ago
        ],
      }],
    };
    const testFile = path.join(dir, 'day-test', 'warmup-day.test.yml');
    fs.writeFileSync(testFile, yaml.dump(test));
    const res = spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).toContain('SUCCESS');
    expect(res.status).toBe(0);
  });

  it('fails loudly when a day-back rule no longer reads what it scales', () => {
    const src = path.join(dir, 'src-day');
    fs.mkdirSync(src);
    for (const f of ruleFilesIn()) fs.writeFileSync(path.join(src, path.basename(f)), fs.readFileSync(f, 'utf8').replace('offset 71h', 'offset 70h'));
    expect(() => writeShortenedRules(path.join(dir, 'renamed-day'), withDay, src)).toThrow(/days_ago="3"/);
  });
});
