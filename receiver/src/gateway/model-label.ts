/**
 * The `model` label: the request's model name as Ollama resolves it ("llama3" = "llama3:latest"), so that
 * it matches the names /api/tags and /api/ps report. Request bodies are client input: the number of
 * distinct values is bounded (installed models always count, others until max_models, then "other").
 */
export const NO_MODEL = '';
export const OTHER_MODEL = 'other';

export function normaliseModelName(name: string): string {
  const slash = name.lastIndexOf('/');
  return name.indexOf(':', slash + 1) === -1 ? `${name}:latest` : name;
}

export class ModelLabels {
  private readonly installed = new Set<string>();
  private readonly seen = new Set<string>();

  constructor(private readonly maxModels: number) {}

  /** Installed models always get their own label (the poller reports them). */
  setInstalled(names: Iterable<string>): void {
    this.installed.clear();
    for (const n of names) this.installed.add(n);
  }

  label(model: unknown): string {
    if (typeof model !== 'string' || model === '') return NO_MODEL;
    // Ollama's names are short and printable; anything else is not a model we could have.
    if (model.length > 200 || /[\s\p{Cc}"\\]/u.test(model)) return OTHER_MODEL;
    const name = normaliseModelName(model);
    if (this.installed.has(name) || this.seen.has(name)) return name;
    if (this.seen.size >= this.maxModels) return OTHER_MODEL;
    this.seen.add(name);
    return name;
  }
}
