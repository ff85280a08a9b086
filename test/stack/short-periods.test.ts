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
