/**
 * What `npm run rules` writes from the configuration: the generated blocks of the recording rules file
 * (Ollama inventory inputs, thresholds, model tables) and the runbook_url lines of the alerts file.
 * Pure functions of (configuration, current file text) -> new file text.
 */
import { replaceBlock } from './blocks';
import { BRANCHES, COMPLEXITIES, FALLBACK_PRIORITY, TASK_TYPES, type Branch, type RulesConfig } from './config';

export const CONFIG_FILE = 'rules/config/ai-dispatcher.yml';
export const RULES_FILE = 'rules/ai-dispatcher.rules.yml';
export const ALERTS_FILE = 'rules/ai-dispatcher.alerts.yml';
const NOTE = `from ${CONFIG_FILE} by \`npm run rules\`; edit that file, not these lines`;

/** A YAML single-quoted scalar. */
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** A PromQL double-quoted string. */
const pq = (s: string) => JSON.stringify(s);
/** An RE2 pattern matching exactly `s` (pq() then escapes its backslashes for PromQL). */
const reLiteral = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const num = (n: number) => String(n);

/** The configured models in the order of the `models` section. */
function modelNames(config: RulesConfig): string[] {
  return Object.keys(config.models);
}

interface TableRow {
  value: string;
  labels: [string, string][];
}

/** One label set per row, columns aligned so that the table reads as a table. */
function tableRows(record: string, rows: TableRow[]): string[] {
  const cells = rows.map((r) => r.labels.map(([k, v]) => `${k}: ${v}`));
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + 1)));
  return rows.map((r, n) => {
    const labels = cells[n].map((c, i) => (i === cells[n].length - 1 ? c : `${c},`.padEnd(widths[i] + 1))).join(' ');
    return `- {record: ${record}, expr: ${q(r.value)}, labels: {${labels}}}`;
  });
}

/** Ollama inventory inputs (section "Service inputs"). */
function inventoryLines(config: RulesConfig): string[] {
  const models = modelNames(config);
  const selector = (metric: string) => `${metric}{job="ollama", model=~${pq(models.map(reLiteral).join('|'))}}`;
  const zeros = models.map((m) => `label_replace(vector(0), "model", ${pq(m)}, "", "")`);
  const readable = ['and on(job, instance) (ollama_up{job="ollama"} == 1)', 'and on(job, instance) (up{job="ollama"} == 1)'];
  const perModel = (record: string, metric: string) => [
    `- record: ${record}`,
    '  expr: |',
    '    (',
    '        max by (model) (',
    `            ${selector(metric)}`,
    ...readable.map((l) => `          ${l}`),
    '        )',
    ...zeros.map((z) => `      or ${z}`),
    '    )',
    '    and on() last_over_time(ai:ollama_models_loaded_ram_bytes:sum[1ms])',
  ];
  return [
    '# Ollama inventory (the gateway, job="ollama"; ollama_up: the gateway reached Ollama), read only while',
    '# both are up. ai:ollama_models_loaded_ram_bytes:sum: the host memory (RAM) of all loaded models, which',
    '# Ollama frees by unloading them (loaded size less the part in GPU memory; 0 when none is loaded); it',
    '# exists only while the inventory is readable. Per model of the configuration, always one series while',
    '# readable (so that no row of a previous Prometheus process lingers for a model): its size when',
    '# installed, else 0; its loaded size, else 0. Models the configuration does not name are not recorded',
    '# (the samples grow with the configuration, not with what Ollama holds).',
    '- record: ai:ollama_models_loaded_ram_bytes:sum',
    '  expr: |',
    '    sum(',
    '        (',
    '            ollama_model_loaded_bytes{job="ollama"}',
    '          - (ollama_model_loaded_vram_bytes{job="ollama"} or 0 * ollama_model_loaded_bytes{job="ollama"})',
    '          or on(job, instance) 0 * ollama_up{job="ollama"}',
    '        )',
    ...readable.map((l) => `      ${l}`),
    '    )',
    ...perModel('ai:ollama_model_installed_bytes:max', 'ollama_model_installed_bytes'),
    ...perModel('ai:ollama_model_loaded_bytes:max', 'ollama_model_loaded_bytes'),
    "- {record: ai:input_available, expr: 'timestamp(ai:ollama_models_loaded_ram_bytes:sum) == bool time() or vector(0)', labels: {input: model_inventory}}",
  ];
}

function thresholdLines(config: RulesConfig): string[] {
  return Object.entries(config.thresholds).map(([name, value]) => `- {record: ai:threshold:${name}, expr: ${q(num(value))}}`);
}

/** One decimal "digit" per branch in the model map's value: base 100 allows lists of up to 99 models. */
const RANK_BASE = 100;

/**
 * The model map: one row per (complexity, task_type, model) named in any branch's list of the pair. The value
 * holds the model's place in each branch's list, one base-100 digit per branch in BRANCHES order (the first
 * branch the most significant; 0: not in that list), so that one row serves all four branches.
 */
function modelMapRows(config: RulesConfig): TableRow[] {
  const rows: TableRow[] = [];
  for (const c of COMPLEXITIES)
    for (const t of TASK_TYPES) {
      const lists = BRANCHES.map((b) => config.recommendation[b][c][t].models);
      for (const m of new Set(lists.flat()))
        rows.push({
          value: String(lists.reduce((v, l) => v * RANK_BASE + (l.indexOf(m) + 1), 0)),
          labels: [['complexity', c], ['task_type', t], ['model', q(m)]],
        });
    }
  return rows;
}

/** A branch's place in the order of precedence (1 = checked first): the value of its timeout rows. */
const branchRank = (b: Branch) => String(BRANCHES.indexOf(b) + 1);

interface PairTimeout { c: string; t: string; seconds: number }

/** The client timeout of each (complexity, task_type) under branch `b`. */
function pairTimeouts(config: RulesConfig, b: Branch): PairTimeout[] {
  return COMPLEXITIES.flatMap((c) => TASK_TYPES.map((t) => ({ c, t, seconds: config.recommendation[b][c][t].timeoutSeconds })));
}

/** The timeout most of a branch's pairs use (the first of them on a tie): its default, one row. */
function branchTimeout(pairs: PairTimeout[]): number {
  const count = (n: number) => pairs.filter((p) => p.seconds === n).length;
  return pairs.map((p) => p.seconds).reduce((best, n) => (count(n) > count(best) ? n : best));
}

/** Per branch: its rank (value) and default client timeout. */
function branchRows(config: RulesConfig): TableRow[] {
  return BRANCHES.map((b) => ({ value: branchRank(b), labels: [['priority', b], ['timeout_seconds', q(String(branchTimeout(pairTimeouts(config, b))))]] }));
}

/** The client timeout of each (branch, complexity, task_type) whose timeout is not its branch's default. */
function timeoutOverrideRows(config: RulesConfig): TableRow[] {
  return BRANCHES.flatMap((b) => {
    const pairs = pairTimeouts(config, b);
    const branchDefault = branchTimeout(pairs);
    return pairs
      .filter((pair) => pair.seconds !== branchDefault)
      .map((pair): TableRow => ({
        value: branchRank(b),
        labels: [['priority', b], ['complexity', pair.c], ['task_type', pair.t], ['timeout_seconds', q(String(pair.seconds))]],
      }));
  });
}

function tableLines(config: RulesConfig): string[] {
  const fallback: TableRow[] = [
    {
      value: '1',
      labels: [['priority', FALLBACK_PRIORITY], ['model', q(config.fallback.model)], ['timeout_seconds', q(String(config.fallback.timeoutSeconds))]],
    },
  ];
  const options = modelNames(config).map((m): TableRow => ({
    value: '1',
    labels: [['model', q(m)], ['temperature', q(num(config.models[m].temperature))], ['num_predict', q(num(config.models[m].numPredict))]],
  }));
  return [
    '# Preference lists: one rule per (complexity, task_type, model) named in any branch\'s list of the pair.',
    '# The value is the model\'s place in each branch\'s list (1 = first choice, 0 = not listed), two digits per',
    `# branch in the order ${BRANCHES.join(', ')}: 1020102 = 01 02 01 02.`,
    ...tableRows('ai:config:model_map', modelMapRows(config)),
    '# Per branch (priority): its rank in the order of precedence (the value) and the client timeout (seconds)',
    '# of its answers; then the pairs whose timeout under a branch is another (value: the branch\'s rank).',
    ...tableRows('ai:config:branch', branchRows(config)),
    ...tableRows('ai:config:timeout', timeoutOverrideRows(config)),
    '# The answer of every pair whose list has no model that is installed and fits: model is the one used',
    '# when none of the configured models is installed (else the smallest installed one replaces it).',
    ...tableRows('ai:config:fallback', fallback),
    '# Generation options per model: one rule per configured model.',
    ...tableRows('ai:config:model_options', options),
  ];
}

/** The recording rules file with its generated blocks rewritten from `config`. */
export function renderRules(config: RulesConfig, text: string): string {
  let out = replaceBlock(text, 'inventory', NOTE, inventoryLines(config), RULES_FILE);
  out = replaceBlock(out, 'thresholds', NOTE, thresholdLines(config), RULES_FILE);
  out = replaceBlock(out, 'tables', NOTE, tableLines(config), RULES_FILE);
  return out;
}

/** The alert's runbook link: the pattern with %s replaced by the alert name in lower case. */
export function runbookUrl(config: RulesConfig, alert: string): string {
  return config.runbookUrlPattern.replace('%s', alert.toLowerCase());
}

/**
 * The alerts file with every `runbook_url:` line set from the pattern, for the alert it belongs to (the
 * nearest `- alert:` line above it); every other line stays as it is.
 */
export function renderAlerts(config: RulesConfig, text: string): string {
  let alert: string | undefined;
  return text
    .split('\n')
    .map((line) => {
      const a = /^\s*- alert:\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?\s*$/.exec(line);
      if (a) alert = a[1];
      const r = /^(\s*)runbook_url:.*$/.exec(line);
      if (!r) return line;
      if (!alert) throw new Error(`${ALERTS_FILE}: a runbook_url line before any alert: ${line.trim()}`);
      return `${r[1]}runbook_url: ${q(runbookUrl(config, alert))}`;
    })
    .join('\n');
}
