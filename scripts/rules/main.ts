/**
 * `npm run rules -- [--config FILE] [--rules FILE] [--alerts FILE] [--check]`
 *
 * Validates the configuration (default rules/config/ai-dispatcher.yml), rewrites the generated blocks of
 * the recording rules and the runbook links of the alerts from it, and checks the result with
 * `promtool check rules` before anything is written: an invalid configuration or a result promtool
 * rejects leaves the files untouched. --check writes nothing and fails when the files differ from what
 * the configuration gives (CI, and after a hand edit of a generated block).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RulesConfigError, loadRulesConfig } from './config';
import { ALERTS_FILE, CONFIG_FILE, RULES_FILE, renderAlerts, renderRules } from './render';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = args[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`--${name} needs a file`);
  return value;
}

/** promtool check rules on the files; the combined output when it fails. */
function promtoolCheck(files: string[]): string | undefined {
  const res = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
  if (res.error) return `cannot run promtool: ${res.error.message}`;
  return res.status === 0 ? undefined : `${res.stdout}${res.stderr}`;
}

export function main(args: string[]): number {
  const known = new Set(['--config', '--rules', '--alerts', '--check']);
  const unknown = args.filter((a, i) => a.startsWith('--') && !known.has(a) && !(i > 0 && ['--config', '--rules', '--alerts'].includes(args[i - 1])));
  if (unknown.length > 0) {
    console.error(`unknown option ${unknown[0]}; usage: npm run rules -- [--config FILE] [--rules FILE] [--alerts FILE] [--check]`);
    return 2;
  }
  const resolve = (f: string) => path.resolve(process.env.INIT_CWD ?? process.cwd(), f);
  const configFile = resolve(option(args, 'config', path.join(REPO_ROOT, CONFIG_FILE)));
  const rulesFile = resolve(option(args, 'rules', path.join(REPO_ROOT, RULES_FILE)));
  const alertsFile = resolve(option(args, 'alerts', path.join(REPO_ROOT, ALERTS_FILE)));
  const check = args.includes('--check');

  const config = loadRulesConfig(configFile);
  const outputs = [
    { file: rulesFile, before: fs.readFileSync(rulesFile, 'utf8'), render: (t: string) => renderRules(config, t) },
    { file: alertsFile, before: fs.readFileSync(alertsFile, 'utf8'), render: (t: string) => renderAlerts(config, t) },
  ].map((o) => ({ ...o, after: o.render(o.before) }));
  const changed = outputs.filter((o) => o.after !== o.before);

  if (check) {
    for (const o of changed) console.error(`${path.relative(REPO_ROOT, o.file)} differs from what ${path.relative(REPO_ROOT, configFile)} gives: run npm run rules`);
    if (changed.length === 0) console.log(`up to date with ${path.relative(REPO_ROOT, configFile)}`);
    return changed.length === 0 ? 0 : 1;
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-rules-'));
  try {
    const candidates = outputs.map((o) => {
      const file = path.join(tmp, path.basename(o.file));
      fs.writeFileSync(file, o.after);
      return file;
    });
    const failure = promtoolCheck(candidates);
    if (failure) {
      console.error(`promtool rejects the generated rules; nothing written:\n${failure}`);
      return 1;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const o of changed) {
    // Write beside and rename: a reader never sees half a file.
    const next = `${o.file}.${process.pid}.tmp`;
    fs.writeFileSync(next, o.after);
    fs.renameSync(next, o.file);
  }
  for (const o of outputs) console.log(`${path.relative(REPO_ROOT, o.file)}: ${changed.includes(o) ? 'rewritten' : 'unchanged'}`);
  console.log('promtool check rules: SUCCESS. Reload Prometheus to apply (POST /-/reload or SIGHUP).');
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof RulesConfigError ? err.message : `npm run rules: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
