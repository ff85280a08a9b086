import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport } from './build-report';
import { parseEnd, parseRange } from './duration';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';
import { createPrometheusClient } from './prometheus-client';
import { ReportError } from './report-error';
import { windowEndingAt } from './timeline';

export const REPORT_USAGE = `Usage: ai-dispatcher report --prometheus URL [--range 7d] [--end TIME] [--out FILE] [--format html|md]

Reads the ai-dispatcher series through the Prometheus HTTP API and writes a report: what stopping the
AI services saved, starts and stops, waits for a wake, recommendation branches, requests by model,
the warm-up's hits and misses, and suggestions with the numbers behind them.
  --prometheus URL   Prometheus base URL, e.g. http://localhost:9090
  --range DURATION   how far back from --end (default 7d; 10m to 90d)
  --end TIME         end of the window, RFC 3339 or Unix seconds (default now)
  --out FILE         write to FILE (format from .html or .md); default: Markdown on stdout
  --format html|md   overrides the format`;

export interface ReportCommand {
  prometheus: string;
  rangeSeconds: number;
  end?: number;
  out?: string;
  format: 'html' | 'md';
}

/** Parses `report` options; throws ReportError with a message for the user. */
export function parseReportArgs(argv: string[]): ReportCommand | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        prometheus: { type: 'string' },
        range: { type: 'string', default: '7d' },
        end: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new ReportError((err as Error).message);
  }
  if (values.help) return 'help';
  if (!values.prometheus) throw new ReportError('--prometheus URL is required');
  let format: 'html' | 'md';
  if (values.format !== undefined) {
    if (values.format !== 'html' && values.format !== 'md') throw new ReportError(`--format must be html or md, not "${values.format}"`);
    format = values.format;
  } else if (values.out === undefined) {
    format = 'md';
  } else {
    const ext = path.extname(values.out).toLowerCase();
    if (ext === '.html' || ext === '.htm') format = 'html';
    else if (ext === '.md' || ext === '.markdown') format = 'md';
    else throw new ReportError(`cannot tell the format from "${values.out}": name it .html or .md, or pass --format`);
  }
  return {
    prometheus: values.prometheus,
    rangeSeconds: parseRange(values.range ?? '7d'),
    end: values.end === undefined ? undefined : parseEnd(values.end),
    out: values.out,
    format,
  };
}

/** Writes the file whole or not at all (a temp file renamed into place). */
function writeAtomically(file: string, content: string): void {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, content);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** `ai-dispatcher report ...`: 0 written, 1 a ReportError (message on stderr), 2 bad usage. */
export async function runReportCli(argv: string[], now: () => Date = () => new Date()): Promise<number> {
  let cmd: ReturnType<typeof parseReportArgs>;
  try {
    cmd = parseReportArgs(argv);
  } catch (err) {
    process.stderr.write(`ai-dispatcher report: ${(err as Error).message}\n\n${REPORT_USAGE}\n`);
    return 2;
  }
  if (cmd === 'help') {
    process.stdout.write(`${REPORT_USAGE}\n`);
    return 0;
  }
  try {
    const client = createPrometheusClient(cmd.prometheus);
    const window = windowEndingAt(cmd.end ?? now().getTime() / 1000, cmd.rangeSeconds);
    const { figures, suggestions } = await buildReport(client, window);
    for (const m of figures.missing) process.stderr.write(`ai-dispatcher report: no data for ${m.series}: ${m.source}\n`);
    const text = cmd.format === 'html' ? renderHtml(figures, suggestions, now()) : renderMarkdown(figures, suggestions);
    if (cmd.out === undefined) process.stdout.write(text);
    else {
      try {
        writeAtomically(cmd.out, text);
      } catch (err) {
        throw new ReportError(`cannot write ${cmd.out}: ${(err as Error).message}`);
      }
    }
    return 0;
  } catch (err) {
    if (err instanceof ReportError) {
      process.stderr.write(`ai-dispatcher report: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
