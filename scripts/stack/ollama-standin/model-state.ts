/**
 * What the Ollama stand-in has installed and loaded. Loaded models expire as Ollama's do: each request
 * moves `expires_at` to now + keep_alive; keep_alive 0 unloads after the request; a negative keep_alive
 * keeps the model for good, reported (as Ollama does) as now + the largest Go duration (~292 years).
 */
export interface InstalledModel {
  name: string;
  /** Bytes on disk (/api/tags `size`). */
  size: number;
  /** Bytes when loaded (/api/ps `size`); defaults to size. */
  loadedSize?: number;
  /** Part of loadedSize in VRAM (/api/ps `size_vram`); defaults to 0 (CPU only). */
  vramSize?: number;
  family?: string;
  parameterSize?: string;
  quantization?: string;
  /** Embedding-only model: generate/chat answer 400 as Ollama does for such models. */
  embedding?: boolean;
  /** When the model was pulled. */
  modifiedAt?: string;
}

/** The models the rules' model map names (rules/config/ai-dispatcher.yml), one more, and an embedding model. */
export const DEFAULT_MODELS: InstalledModel[] = [
  { name: 'phi3:mini', size: 2_176_178_913, loadedSize: 5_137_025_024, family: 'phi3', parameterSize: '3.8B', quantization: 'Q4_0' },
  { name: 'llama3.2:3b', size: 2_019_393_189, loadedSize: 3_550_000_000, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M' },
  { name: 'qwen2.5:7b', size: 4_683_087_332, loadedSize: 5_600_000_000, family: 'qwen2', parameterSize: '7.6B', quantization: 'Q4_K_M' },
  { name: 'mistral:7b', size: 4_113_301_824, loadedSize: 5_900_000_000, family: 'llama', parameterSize: '7.2B', quantization: 'Q4_0' },
  { name: 'all-minilm:latest', size: 45_960_996, family: 'bert', parameterSize: '23M', quantization: 'F16', embedding: true },
];

/** Go's time.Duration(math.MaxInt64): what Ollama adds to "now" for a negative keep_alive. */
export const FOREVER_NS = 2n ** 63n - 1n;

/** Ollama's keep_alive: a duration string ("5m", "1h30m", "300ms", "-1m"), or a number of seconds. undefined = invalid. */
export function parseKeepAlive(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? -1 : value * 1000;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) < 0 ? -1 : Number(text) * 1000;
  const m = /^(-)?((\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+)$/.exec(text);
  if (!m) return undefined;
  if (m[1]) return -1;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let ms = 0;
  for (const part of m[2].matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(part[1]) * unit[part[2]];
  return ms;
}

interface Loaded {
  model: InstalledModel;
  /** Epoch ms; Infinity for a negative keep_alive (reported as now + FOREVER_NS at the last request). */
  expiresAtMs: number;
  /** What /api/ps reports (ISO 8601). */
  expiresAtText: string;
  timer?: NodeJS.Timeout;
}

export function digestOf(name: string): string {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(8);
}

/** ISO time of epoch ms + a nanosecond offset; years past 9999 cannot happen here (FOREVER is ~2318). */
function isoAfter(nowMs: number, ns: bigint): string {
  return new Date(nowMs + Number(ns / 1_000_000n)).toISOString();
}

export class ModelState {
  private installed = new Map<string, InstalledModel>();
  private loaded = new Map<string, Loaded>();

  constructor(models: InstalledModel[], private readonly now: () => number = Date.now) {
    this.setInstalled(models);
  }

  setInstalled(models: InstalledModel[]): void {
    this.installed = new Map(models.map((m) => [m.name, m]));
    for (const name of [...this.loaded.keys()]) if (!this.installed.has(name)) this.unload(name);
  }

  installedModels(): InstalledModel[] {
    return [...this.installed.values()];
  }

  /** The installed model a request names ("phi3" means "phi3:latest"), or undefined. */
  find(name: string): InstalledModel | undefined {
    return this.installed.get(name) ?? (name.includes(':') ? undefined : this.installed.get(`${name}:latest`));
  }

  isLoaded(name: string): boolean {
    return this.loaded.has(name);
  }

  /** After a request (or a load): the model stays loaded for keepAliveMs (-1: for good, 0: unloads now). */
  touch(model: InstalledModel, keepAliveMs: number): void {
    const previous = this.loaded.get(model.name);
    if (previous?.timer) clearTimeout(previous.timer);
    if (keepAliveMs === 0) {
      this.loaded.delete(model.name);
      return;
    }
    const now = this.now();
    const entry: Loaded = keepAliveMs < 0
      ? { model, expiresAtMs: Infinity, expiresAtText: isoAfter(now, FOREVER_NS) }
      : { model, expiresAtMs: now + keepAliveMs, expiresAtText: new Date(now + keepAliveMs).toISOString() };
    if (keepAliveMs > 0 && keepAliveMs < 2 ** 31) {
      entry.timer = setTimeout(() => this.loaded.delete(model.name), keepAliveMs);
      entry.timer.unref();
    }
    this.loaded.set(model.name, entry);
  }

  unload(name: string): void {
    const entry = this.loaded.get(name);
    if (entry?.timer) clearTimeout(entry.timer);
    this.loaded.delete(name);
  }

  loadedModels(): Array<{ model: InstalledModel; expiresAt: string }> {
    return [...this.loaded.values()].map((l) => ({ model: l.model, expiresAt: l.expiresAtText }));
  }

  close(): void {
    for (const name of [...this.loaded.keys()]) this.unload(name);
  }
}
