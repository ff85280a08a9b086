/**
 * Generated blocks inside hand-edited files: the generator rewrites only the lines between a block's
 * two marker comments and leaves every other byte of the file as it is, so the rest of a rules file
 * stays editable by hand.
 *
 *       # ---- BEGIN GENERATED <name>: ... ----
 *       ...generated lines...
 *       # ---- END GENERATED <name> ----
 *
 * Block lines are written with the indentation of the BEGIN line.
 */

const begin = (name: string) => new RegExp(`^([ \\t]*)# ---- BEGIN GENERATED ${name}\\b.*$`, 'm');
const end = (name: string) => new RegExp(`^[ \\t]*# ---- END GENERATED ${name} ----[ \\t]*$`, 'm');

export function beginMarker(name: string, note: string): string {
  return `# ---- BEGIN GENERATED ${name}: ${note} ----`;
}
export function endMarker(name: string): string {
  return `# ---- END GENERATED ${name} ----`;
}

/**
 * `text` with the lines between the markers of block `name` replaced by `lines` (each indented like the
 * BEGIN marker; the BEGIN line itself is rewritten with `note`). Throws when the markers are missing,
 * doubled or out of order: nothing is written then.
 */
export function replaceBlock(text: string, name: string, note: string, lines: string[], file = 'the file'): string {
  const b = begin(name).exec(text);
  const e = end(name).exec(text);
  if (!b || !e) throw new Error(`${file}: the markers of generated block "${name}" are missing (restore them: "${beginMarker(name, '...')}" ... "${endMarker(name)}")`);
  if (begin(name).exec(text.slice(b.index + b[0].length)) || end(name).exec(text.slice(e.index + e[0].length)))
    throw new Error(`${file}: generated block "${name}" appears twice`);
  if (e.index < b.index) throw new Error(`${file}: the END marker of generated block "${name}" comes before its BEGIN marker`);
  const indent = b[1];
  const body = [beginMarker(name, note), ...lines, endMarker(name)].map((l) => (l === '' ? '' : indent + l)).join('\n');
  const endOfEnd = e.index + e[0].length;
  return text.slice(0, b.index) + body + text.slice(endOfEnd);
}

/** The names of the generated blocks present in `text`, in order. */
export function blockNames(text: string): string[] {
  return [...text.matchAll(/^[ \t]*# ---- BEGIN GENERATED ([A-Za-z0-9_-]+)\b/gm)].map((m) => m[1]);
}
