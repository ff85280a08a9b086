/**
 * The built receiver (dist/receiver/src/cli.js, `npm run build`; built here when missing or stale) as a
 * child process, the way users run it: for tests that kill it, restart it, or read its real log output.
 *
 *   const rx = await startReceiverProcess({ config: yamlText, token });
 *   await rx.webhook(body)                 // POST /webhook/alertmanager with the bearer token
 *   await rx.metric('ai_dispatcher_actions_total', { result: 'success' })
 *   rx.logLines()                          // parsed JSON log lines so far (stdout)
 *   rx.kill('SIGKILL'); await rx.exited;   // or: await rx.stop() (SIGTERM, wait)
 *
 * The config's `listen` is overridden with --listen (127.0.0.1:0 unless `listen` is given).
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { ensureReceiverBuilt } from './build';
import { readAnswer, readMetric, type HttpAnswer } from './live-receiver';

const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/receiver/src/cli.js');

export interface ReceiverProcessOptions {
  /** YAML text of the receiver config. */
  config: string;
  token?: string;
  listen?: string;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Extra node flags before the script (e.g. --inspect=127.0.0.1:0 for a benchmark that forces a GC). */
  nodeArgs?: string[];
  /** How long to wait for "receiver listening" (default 20 s). */
  startTimeoutMs?: number;
}

export interface ReceiverProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  logLines(): Array<Record<string, any>>;
  webhook(body: string | Buffer, headers?: Record<string, string>): Promise<HttpAnswer>;
  request(method: string, pathname: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM and wait (SIGKILL after 10 s); removes the temp dir. Safe to call twice. */
  stop(): Promise<number | string>;
}

export async function startReceiverProcess(options: ReceiverProcessOptions): Promise<ReceiverProcess> {
  ensureReceiverBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-rx-'));
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, options.config);
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.AI_DISPATCHER_TOKEN_FILE;
  if (options.token !== undefined) env.AI_DISPATCHER_TOKEN = options.token;
  const args = [...RECEIVER_NODE_FLAGS, ...(options.nodeArgs ?? []), CLI, 'receiver', '--config', configFile, '--listen', options.listen ?? '127.0.0.1:0', ...(options.dryRun ? ['--dry-run'] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(code ?? signal ?? 'unknown');
    }),
  );

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  let url: string | undefined;
  while (url === undefined) {
    url = /"msg":"receiver listening","url":"(http:\/\/[^"]+)"/.exec(out)?.[1];
    if (url !== undefined) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the receiver did not start:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }

  const auth: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const base = url;
  let stopping: Promise<number | string> | undefined;
  const rx: ReceiverProcess = {
    url: base,
    pid: child.pid as number,
    child,
    exited,
    output: () => out,
    logLines: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{"time"'))
        .map((line) => JSON.parse(line) as Record<string, any>),
    async webhook(body, headers = {}) {
      const res = await fetch(`${base}/webhook/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...headers },
        body,
      });
      return readAnswer(res);
    },
    async request(method, pathname, headers = {}) {
      return readAnswer(await fetch(`${base}${pathname}`, { method, headers: { ...auth, ...headers } }));
    },
    async metric(name, labels = {}) {
      const text = (await rx.request('GET', '/metrics')).body as string;
      return readMetric(text, name, labels);
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    stop() {
      stopping ??= (async () => {
        rx.kill('SIGTERM');
        const timer = setTimeout(() => rx.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
  return rx;
}

/** A receiver config for tests: one engine socket, short intervals, the given `targets:` body. */
export function receiverConfigYaml(o: {
  socketPath: string;
  targets: string;
  dockerTimeoutSeconds?: number;
  refreshIntervalSeconds?: number;
  extra?: string[];
}): string {
  return [
    `docker: {socket_path: ${JSON.stringify(o.socketPath)}, timeout_seconds: ${o.dockerTimeoutSeconds ?? 1}}`,
    `refresh_interval_seconds: ${o.refreshIntervalSeconds ?? 0.5}`,
    'shutdown_timeout_seconds: 2',
    ...(o.extra ?? []),
    'targets:',
    ...o.targets.trim().split('\n').map((line) => `  ${line}`),
  ].join('\n');
}
