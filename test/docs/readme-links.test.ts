/**
 * Every relative link in the repository's READMEs (and the runbook) leads somewhere: the file exists and,
 * for a link with #anchor into a Markdown file, that file has a heading with GitHub's anchor for it.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

const SKIPPED = new Set(['node_modules', 'dist', '.stack', '.git']);

function markdownFiles(dir = ''): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .flatMap((entry) => {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : markdownFiles(rel);
      return entry.name === 'README.md' || rel === 'rules/runbook.md' ? [rel] : [];
    })
    .sort();
}

/** GitHub's heading anchors (lower case, punctuation dropped, spaces to dashes, repeats numbered) and <a id> anchors. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of withoutCode.matchAll(/<a +(?:id|name)="([^"]+)"/g)) out.add(id);
  return out;
}

/** Relative links of a Markdown file, outside code blocks and code spans. */
function links(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((href) => !/^[a-z]+:/i.test(href));
}

describe('README links', () => {
  const files = markdownFiles();

  it('finds the front door and the folder READMEs', () => {
    for (const f of ['README.md', 'rules/README.md', 'receiver/README.md', 'dashboards/README.md', 'scripts/README.md', 'scripts/bench/README.md']) {
      expect(files).toContain(f);
    }
  });

  it.each(markdownFiles())('every relative link in %s resolves, anchors included', (file) => {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const broken: string[] = [];
    for (const href of links(source)) {
      const [target, anchor] = href.split('#');
      const resolved = target ? path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(target)) : path.join(ROOT, file);
      if (!fs.existsSync(resolved)) {
        broken.push(`${href}: no such file`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) {
        broken.push(`${href}: no heading with anchor #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('anchors', () => {
  it('follows GitHub: punctuation dropped, spaces to dashes, repeated headings numbered, <a id> kept', () => {
    expect([...anchors('## Adding it to a Docker Compose stack: `docker-compose.override.yml`\n## Tests\n## Tests\n<a id="here"></a>Text\n')]).toEqual([
      'adding-it-to-a-docker-compose-stack-docker-composeoverrideyml',
      'tests',
      'tests-1',
      'here',
    ]);
  });
});
