/** A small Dockerfile reader for structural tests: instructions with continuations joined, grouped by stage. */
export interface Instruction { keyword: string; args: string }
export interface Stage { from: string; name?: string; instructions: Instruction[] }

export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) { current += line.slice(0, -1) + ' '; continue; }
    logical.push(current + line);
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());

  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const ins = { keyword: m[1].toUpperCase(), args: m[2].trim() };
    if (ins.keyword === 'FROM') {
      const [from, as, name] = ins.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      args.push(ins);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { args, stages };
}

/** JSON-array (exec form) arguments, as Docker reads them. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args);
  if (!Array.isArray(parsed)) throw new Error(`not exec form: ${args}`);
  return parsed;
}

/** COPY/ADD arguments without flags: sources then destination. */
export function copyOperands(args: string): { flags: string[]; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  return { flags, sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
}
