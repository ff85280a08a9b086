/**
 * The n8n import steps name menu items as n8n 2.8.4 spells them ("Create workflow", "Import from file..."), in
 * scripts/README.md and nowhere with the old spelling ("Create Workflow", "Import from File...").
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../..');
const readme = readFileSync(path.join(root, 'scripts/README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## n8n'));
/** Every Markdown file of the repository (tracked or new), fixtures excluded. */
const markdown = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && !f.startsWith('test/fixtures/'));

describe('n8n import steps', () => {
  it('are in scripts/README.md with the menu items of n8n 2.8.4', () => {
    expect(section).toMatch(/^1\. .*\*\*Create workflow\*\*/m);
    expect(section).toMatch(/^2\. .*\*\*Import from file\.\.\.\*\*/m);
  });

  it('use the old spellings nowhere', () => {
    expect(markdown).toContain('scripts/README.md');
    for (const file of markdown) {
      const text = readFileSync(path.join(root, file), 'utf8');
      expect([file, /Create Workflow|Import from File/.test(text)]).toEqual([file, false]);
    }
  });
});
