/**
 * An Ollama stand-in that speaks Ollama's HTTP API (docs/api.md in ollama/ollama) for the local stack,
 * the gateway's tests and its benchmark: no model weights, deterministic answers, real timing behaviour
 * (token rate, model load time, keep_alive expiry, a queue of its own with Ollama's 503 over it).
 *
 * Admin (not Ollama's): GET /_standin/state, POST /_standin/models [InstalledModel...],
 * POST /_standin/options {tokensPerSecond, loadMs, answerTokens, numParallel, maxQueue, keepAlive,
 * breakAfterTokens, failNext: {status, error, count}}.
 */
import http from 'node:http';
import net from 'node:net';
import { answerTokens, durations, embeddingOf, promptTokenCount, type Timing } from './generation';
import { DEFAULT_MODELS, ModelState, digestOf, parseKeepAlive, type InstalledModel } from './model-state';

export interface StandInOptions {
  models?: InstalledModel[];
  timing?: Partial<Timing>;
  /** OLLAMA_NUM_PARALLEL: generation requests served at once. */
  numParallel?: number;
  /** OLLAMA_MAX_QUEUE: requests waiting beyond numParallel; more get 503. */
  maxQueue?: number;
  /** OLLAMA_KEEP_ALIVE: default keep_alive of a request ("5m", "-1", "0", seconds). */
  keepAlive?: string;
  version?: string;
  /** Answer 403 to a Host header that is not local, as Ollama does when it listens on loopback (default true). */
  checkHost?: boolean;
  now?: () => number;
}

interface Mutable {
  timing: Timing;
  numParallel: number;
  maxQueue: number;
  keepAliveMs: number;
  /** Streamed answers break (socket destroyed) after this many tokens: an Ollama that dies mid-stream. */
  breakAfterTokens?: number;
  /** The next `count` generation requests answer this status and error. */
  failNext?: { status: number; error: string; count: number };
}

export interface OllamaStandIn {
  server: http.Server;
  models: ModelState;
  /** Requests received per path (admin paths excluded). */
  requests: Map<string, number>;
  close(): Promise<void>;
}

const BUSY = 'server busy, please try again.  maximum pending requests exceeded';
const GENERATION = new Set(['/api/generate', '/api/chat', '/api/embed', '/api/embeddings', '/v1/chat/completions', '/v1/completions', '/v1/embeddings']);
const BODY_LIMIT = 100 * 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function createOllamaStandIn(options: StandInOptions = {}): OllamaStandIn {
  const now = options.now ?? Date.now;
  const models = new ModelState(options.models ?? DEFAULT_MODELS, now);
  const cfg: Mutable = {
    timing: { tokensPerSecond: 50, loadMs: 800, answerTokens: 12, ...options.timing },
    numParallel: options.numParallel ?? 4,
    maxQueue: options.maxQueue ?? 512,
    keepAliveMs: parseKeepAlive(options.keepAlive ?? '5m') ?? 300_000,
  };
  const version = options.version ?? '0.12.6';
  const checkHost = options.checkHost ?? true;
  const requests = new Map<string, number>();
  let running = 0;
  const waiting: Array<() => void> = [];
  let sequence = 0;

  const acquire = async (): Promise<() => void> => {
    if (running >= cfg.numParallel) {
      if (waiting.length >= cfg.maxQueue) throw new HttpError(503, BUSY);
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiting.shift();
      if (next) next();
      else running--;
    };
  };

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const createdAt = () => new Date(now()).toISOString();

  /** Loads the model when needed (load time), then counts the request against its keep_alive. */
  const ensureLoaded = async (model: InstalledModel): Promise<boolean> => {
    const wasLoaded = models.isLoaded(model.name);
    if (!wasLoaded && cfg.timing.loadMs > 0) await sleep(cfg.timing.loadMs);
    return wasLoaded;
  };

  const keepAliveOf = (body: Record<string, unknown>): number => {
    if (body.keep_alive === undefined) return cfg.keepAliveMs;
    const ms = parseKeepAlive(body.keep_alive);
    if (ms === undefined) throw new HttpError(400, `time: invalid duration "${String(body.keep_alive)}"`);
    return ms;
  };

  const findModel = (body: Record<string, unknown>, purpose: 'generate' | 'embed'): InstalledModel => {
    const name = body.model;
    if (typeof name !== 'string' || name === '') throw new HttpError(400, 'model is required');
    const model = models.find(name);
    if (!model) throw new HttpError(404, `model "${name}" not found, try pulling it first`);
    if (purpose === 'generate' && model.embedding) throw new HttpError(400, `"${name}" does not support generate`);
    return model;
  };

  const consumeFault = () => {
    const f = cfg.failNext;
    if (!f) return;
    if (--f.count <= 0) cfg.failNext = undefined;
    throw new HttpError(f.status, f.error);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    if (checkHost && !allowedHost(req.headers.host)) {
      res.writeHead(403).end();
      return;
    }
    if (!path.startsWith('/_standin/')) requests.set(path, (requests.get(path) ?? 0) + 1);
    void readBody(req).then(
      (text) => route(req, res, path, text),
      () => res.destroy(),
    ).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, path, status, message);
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse, path: string, text: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(method === 'HEAD' ? undefined : 'Ollama is running');
      return;
    }
    if (path.startsWith('/_standin/')) return admin(method, path, text, res);
    if (method === 'GET' && path === '/api/version') return sendJson(res, 200, { version });
    if (method === 'GET' && path === '/api/tags') return sendJson(res, 200, { models: models.installedModels().map(tagEntry) });
    if (method === 'GET' && path === '/api/ps') {
      return sendJson(res, 200, { models: models.loadedModels().map(({ model, expiresAt }) => psEntry(model, expiresAt)) });
    }
    if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      const list = models.installedModels().map((m) => ({ id: m.name, object: 'model', created: Math.floor(Date.parse(m.modifiedAt ?? '2025-01-01T00:00:00Z') / 1000), owned_by: 'library' }));
      if (path === '/v1/models') return sendJson(res, 200, { object: 'list', data: list });
      const one = list.find((m) => m.id === decodeURIComponent(path.slice('/v1/models/'.length)));
      if (!one) throw new HttpError(404, `model "${path.slice(11)}" not found`);
      return sendJson(res, 200, one);
    }
    if (method !== 'POST') throw new HttpError(404, '404 page not found');
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = text === '' ? {} : JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('json: cannot unmarshal into Go value of type api.Request');
      body = parsed as Record<string, unknown>;
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    if (path === '/api/show') {
      const model = findModel({ model: body.model ?? body.name }, 'embed');
      return sendJson(res, 200, showEntry(model));
    }
    if (!GENERATION.has(path)) throw new HttpError(404, '404 page not found');
    consumeFault();
    const purpose = path.includes('embed') ? 'embed' : 'generate';
    const model = findModel(body, purpose);
    const keepAliveMs = keepAliveOf(body);
    const release = await acquire();
    res.once('close', release);
    try {
      if (purpose === 'embed') return await embed(path, body, model, keepAliveMs, res);
      return await generate(path, body, model, keepAliveMs, res);
    } finally {
      release();
    }
  }

  async function embed(path: string, body: Record<string, unknown>, model: InstalledModel, keepAliveMs: number, res: http.ServerResponse): Promise<void> {
    const raw = path === '/api/embeddings' ? body.prompt : body.input;
    const inputs = (Array.isArray(raw) ? raw : [raw ?? '']).map(String);
    const wasLoaded = await ensureLoaded(model);
    models.touch(model, keepAliveMs);
    const vectors = inputs.map((t) => embeddingOf(t));
    const tokens = inputs.reduce((n, t) => n + promptTokenCount(t), 0);
    const d = durations(cfg.timing, tokens, 0, wasLoaded);
    if (path === '/api/embeddings') return sendJson(res, 200, { embedding: vectors[0] });
    if (path === '/api/embed') {
      return sendJson(res, 200, { model: body.model, embeddings: vectors, total_duration: d.total_duration, load_duration: d.load_duration, prompt_eval_count: tokens });
    }
    return sendJson(res, 200, {
      object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', embedding, index })),
      model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  async function generate(path: string, body: Record<string, unknown>, model: InstalledModel, keepAliveMs: number, res: http.ServerResponse): Promise<void> {
    const name = body.model as string;
    const openai = path.startsWith('/v1/');
    const chat = path === '/api/chat' || path === '/v1/chat/completions';
    const prompt = chat ? lastUserMessage(body.messages) : typeof body.prompt === 'string' ? body.prompt : '';
    const options = (body.options ?? {}) as Record<string, unknown>;
    const limit = Number(openai ? body.max_tokens ?? cfg.timing.answerTokens : options.num_predict ?? cfg.timing.answerTokens);
    const count = Number.isFinite(limit) && limit >= 0 ? Math.min(limit, cfg.timing.answerTokens) : cfg.timing.answerTokens;
    const streamed = openai ? body.stream === true : body.stream !== false;
    const emptyRequest = !openai && (chat ? !Array.isArray(body.messages) || body.messages.length === 0 : prompt === '' && !Array.isArray(body.images));

    const wasLoaded = await ensureLoaded(model);
    if (emptyRequest) {
      // Ollama: an empty prompt loads the model (done_reason "load"); with keep_alive 0 it unloads it.
      models.touch(model, keepAliveMs);
      const reason = keepAliveMs === 0 ? 'unload' : 'load';
      const answer = chat
        ? { model: name, created_at: createdAt(), message: { role: 'assistant', content: '' }, done_reason: reason, done: true }
        : { model: name, created_at: createdAt(), response: '', done: true, done_reason: reason };
      return sendJson(res, 200, answer);
    }
    const tokens = answerTokens(name, prompt, count);
    const promptTokens = promptTokenCount(prompt);
    const d = durations(cfg.timing, promptTokens, tokens.length, wasLoaded);
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${++sequence}`;
    const created = Math.floor(now() / 1000);
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };
    const finish = count < cfg.timing.answerTokens ? 'length' : 'stop';

    if (!streamed) {
      await sleep((tokens.length * 1000) / cfg.timing.tokensPerSecond);
      models.touch(model, keepAliveMs);
      const text = tokens.join('');
      if (openai) {
        return sendJson(res, 200, chat
          ? { id, object: 'chat.completion', created, model: name, system_fingerprint: 'fp_ollama', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }], usage }
          : { id, object: 'text_completion', created, model: name, system_fingerprint: 'fp_ollama', choices: [{ text, index: 0, finish_reason: finish }], usage });
      }
      return sendJson(res, 200, chat
        ? { model: name, created_at: createdAt(), message: { role: 'assistant', content: text }, done_reason: finish, done: true, ...d }
        : { model: name, created_at: createdAt(), response: text, done: true, done_reason: finish, context: [1, 2, 3], ...d });
    }

    res.writeHead(200, openai
      ? { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' }
      : { 'Content-Type': 'application/x-ndjson' });
    let closed = false;
    res.once('close', () => { closed = true; });
    const sse = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
    const chunkOf = (token: string, last: boolean) => {
      if (openai) {
        const choice = chat
          ? { index: 0, delta: last ? { role: 'assistant', content: '' } : { role: 'assistant', content: token }, finish_reason: last ? finish : null }
          : { text: last ? '' : token, index: 0, finish_reason: last ? finish : null };
        return sse({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model: name, system_fingerprint: 'fp_ollama', choices: [choice] });
      }
      const base = chat
        ? { model: name, created_at: createdAt(), message: { role: 'assistant', content: token } }
        : { model: name, created_at: createdAt(), response: token };
      return JSON.stringify(last ? (chat ? { ...base, done_reason: finish, done: true, ...d } : { ...base, done: true, done_reason: finish, context: [1, 2, 3], ...d }) : { ...base, done: false }) + '\n';
    };
    const pause = 1000 / cfg.timing.tokensPerSecond;
    const start = Date.now();
    for (let i = 0; i < tokens.length; i++) {
      if (closed) return;
      if (cfg.breakAfterTokens !== undefined && i >= cfg.breakAfterTokens) {
        // What a crashed Ollama leaves: the tokens it sent, then a closed connection without the final chunk.
        await new Promise((resolve) => res.write('', resolve));
        res.destroy();
        return;
      }
      res.write(chunkOf(tokens[i], false));
      // Paced against the start, so timer overshoot does not add up over a long answer.
      const wait = start + (i + 1) * pause - Date.now();
      if (wait > 0) await sleep(wait);
    }
    if (closed) return;
    models.touch(model, keepAliveMs);
    res.write(chunkOf('', true));
    if (openai) {
      const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
      if (streamOptions?.include_usage) res.write(sse({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model: name, system_fingerprint: 'fp_ollama', choices: [], usage }));
      res.write('data: [DONE]\n\n');
    }
    res.end();
  }

  function admin(method: string, path: string, text: string, res: http.ServerResponse): void {
    if (method === 'GET' && path === '/_standin/state') {
      return sendJson(res, 200, {
        installed: models.installedModels(), loaded: models.loadedModels(), running, waiting: waiting.length,
        options: cfg, requests: Object.fromEntries(requests),
      });
    }
    if (method !== 'POST') throw new HttpError(404, 'not found');
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'the body is not valid JSON');
    }
    if (path === '/_standin/models') {
      const errors = validateModels(patch);
      if (errors.length > 0) return sendJson(res, 400, { errors });
      models.setInstalled(patch as InstalledModel[]);
      return sendJson(res, 200, { installed: models.installedModels() });
    }
    if (path === '/_standin/options') {
      const errors = applyOptions(cfg, patch);
      if (errors.length > 0) return sendJson(res, 400, { errors });
      return sendJson(res, 200, { options: cfg });
    }
    throw new HttpError(404, 'not found');
  }

  return {
    server,
    models,
    requests,
    close: () => new Promise<void>((resolve) => {
      models.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function lastUserMessage(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role === 'user') return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
  }
  return '';
}

function details(m: InstalledModel) {
  return { parent_model: '', format: 'gguf', family: m.family ?? 'llama', families: [m.family ?? 'llama'], parameter_size: m.parameterSize ?? '7B', quantization_level: m.quantization ?? 'Q4_0' };
}

function tagEntry(m: InstalledModel) {
  return { name: m.name, model: m.name, modified_at: m.modifiedAt ?? '2025-01-01T00:00:00Z', size: m.size, digest: digestOf(m.name), details: details(m) };
}

function psEntry(m: InstalledModel, expiresAt: string) {
  return { name: m.name, model: m.name, size: m.loadedSize ?? m.size, digest: digestOf(m.name), details: details(m), expires_at: expiresAt, size_vram: m.vramSize ?? 0, context_length: 4096 };
}

function showEntry(m: InstalledModel) {
  return {
    modelfile: `FROM ${m.name}\n`, parameters: 'stop "<|end|>"', template: '{{ .Prompt }}', details: details(m),
    model_info: { 'general.architecture': m.family ?? 'llama', 'general.parameter_count': 0 },
    capabilities: m.embedding ? ['embedding'] : ['completion'], modified_at: m.modifiedAt ?? '2025-01-01T00:00:00Z',
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

/** Ollama's error shape: {"error": "..."} on /api, OpenAI's {"error": {message, type}} on /v1. */
function sendError(res: http.ServerResponse, path: string, status: number, message: string): void {
  if (path.startsWith('/v1/')) {
    const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
    sendJson(res, status, { error: { message, type, param: null, code: null } });
  } else sendJson(res, status, { error: message });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) req.destroy(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Ollama's allowedHostsMiddleware for a loopback listener: local names and loopback/private addresses only. */
export function allowedHost(hostHeader: string | undefined): boolean {
  if (!hostHeader) return true;
  let host = hostHeader;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':') && net.isIP(host) !== 6) host = host.slice(0, host.lastIndexOf(':'));
  host = host.toLowerCase();
  if (host === '' || host === 'localhost') return true;
  if (/\.(localhost|local|internal)$/.test(host)) return true;
  if (net.isIPv4(host)) {
    const [a, b] = host.split('.').map(Number);
    return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (net.isIPv6(host)) return host === '::1' || host === '::' || host.startsWith('fc') || host.startsWith('fd');
  return false;
}

function validateModels(value: unknown): string[] {
  if (!Array.isArray(value)) return ['the body must be a JSON array of models ({name, size, ...})'];
  const errors: string[] = [];
  value.forEach((m, i) => {
    if (m === null || typeof m !== 'object') errors.push(`[${i}]: must be an object`);
    else if (typeof (m as { name?: unknown }).name !== 'string' || (m as { name: string }).name === '') errors.push(`[${i}].name: must be a non-empty string`);
    else if (typeof (m as { size?: unknown }).size !== 'number' || (m as { size: number }).size < 0) errors.push(`[${i}].size: must be a number >= 0`);
  });
  return errors;
}

function applyOptions(cfg: Mutable, patch: unknown): string[] {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return ['the body must be a JSON object'];
  const errors: string[] = [];
  const p = patch as Record<string, unknown>;
  const positive = (k: string) => typeof p[k] === 'number' && (p[k] as number) > 0;
  for (const [key, value] of Object.entries(p)) {
    switch (key) {
      case 'tokensPerSecond': if (positive(key)) cfg.timing.tokensPerSecond = value as number; else errors.push(`${key}: a number > 0`); break;
      case 'loadMs': if (typeof value === 'number' && value >= 0) cfg.timing.loadMs = value; else errors.push(`${key}: a number >= 0`); break;
      case 'answerTokens': if (Number.isInteger(value) && (value as number) >= 1) cfg.timing.answerTokens = value as number; else errors.push(`${key}: an integer >= 1`); break;
      case 'numParallel': if (Number.isInteger(value) && (value as number) >= 1) cfg.numParallel = value as number; else errors.push(`${key}: an integer >= 1`); break;
      case 'maxQueue': if (Number.isInteger(value) && (value as number) >= 0) cfg.maxQueue = value as number; else errors.push(`${key}: an integer >= 0`); break;
      case 'keepAlive': { const ms = parseKeepAlive(value); if (ms === undefined) errors.push(`${key}: a duration ("5m", "-1", "0")`); else cfg.keepAliveMs = ms; break; }
      case 'breakAfterTokens': if (value === null) cfg.breakAfterTokens = undefined; else if (Number.isInteger(value) && (value as number) >= 0) cfg.breakAfterTokens = value as number; else errors.push(`${key}: an integer >= 0 or null`); break;
      case 'failNext': {
        const f = value as { status?: unknown; error?: unknown; count?: unknown } | null;
        if (f === null) cfg.failNext = undefined;
        else if (typeof f === 'object' && Number.isInteger(f.status) && typeof f.error === 'string') cfg.failNext = { status: f.status as number, error: f.error, count: Number.isInteger(f.count) ? (f.count as number) : 1 };
        else errors.push(`${key}: {status, error, count?} or null`);
        break;
      }
      default: errors.push(`unknown option "${key}"`);
    }
  }
  return errors;
}
