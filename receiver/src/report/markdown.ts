import type { ReportFigures } from './figures';
import { reportSections } from './sections';
import type { Suggestion } from './suggestions';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report as Markdown (terminal, ticket); charts are left out, their figures are in the tables. */
export function renderMarkdown(f: ReportFigures, suggestions: Suggestion[]): string {
  const lines = ['# ai-dispatcher report', ''];
  for (const s of reportSections(f, suggestions)) {
    lines.push(`## ${s.title}`, '');
    if (s.id === 'suggestions' && suggestions.length > 0) {
      for (const sg of suggestions) lines.push(`- ${sg.text}`, `  Evidence: ${sg.evidence}`);
      lines.push('');
    } else {
      for (const p of s.paragraphs) lines.push(p, '');
    }
    if (s.table && s.table.rows.length > 0) {
      lines.push(`| ${s.table.head.map(cell).join(' | ')} |`, `|${s.table.head.map(() => '---').join('|')}|`);
      for (const row of s.table.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
