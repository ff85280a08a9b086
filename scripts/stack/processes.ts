/**
 * Detached processes of the local stack: started with their output in <dir>/logs/NAME.log and their pid
 * in <dir>/pids/NAME.json, so that `npm run stack` can return and `npm run stack:down` can stop them later.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * startTicks: when the process started (clock ticks since boot, /proc/PID/stat field 22). A pid alone is not
 * enough: pid_max is often 32768 and threads use pids too, so a busy machine hands a dead process's pid to a
 * new one within minutes, often to another process of the same program.
 */
export interface PidRecord { name: string; pid: number; command: string; args: string[]; startTicks?: number }

export function logFile(dir: string, name: string): string {
  return path.join(dir, 'logs', `${name}.log`);
}

export function spawnDetached(dir: string, name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): PidRecord {
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'pids'), { recursive: true });
  const out = fs.openSync(logFile(dir, name), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.unref();
  const record = { name, pid: child.pid, command, args, startTicks: procStat(child.pid)?.startTicks };
  fs.writeFileSync(path.join(dir, 'pids', `${name}.json`), JSON.stringify(record) + '\n');
  return record;
}

export function readPidRecords(dir: string): PidRecord[] {
  const pids = path.join(dir, 'pids');
  if (!fs.existsSync(pids)) return [];
  return fs.readdirSync(pids).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(pids, f), 'utf8')) as PidRecord);
}

/** True when the pid runs and is still the process we started (not a reused pid). */
export function isOurs(record: PidRecord): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    const stat = procStat(record.pid);
    if (!stat || stat.state === 'Z') return false;
    // Records written before startTicks was kept can only be checked by their program.
    if (record.startTicks !== undefined && stat.startTicks !== record.startTicks) return false;
    return argv.some((a) => a === record.command || a.endsWith(`/${path.basename(record.command)}`));
  } catch {
    return false;
  }
}

function procStat(pid: number): { state: string; startTicks: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself contain spaces and parentheses: fields follow the last ") ".
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return { state: fields[0], startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** SIGTERM each process (in the given order), then SIGKILL what is left after the grace period. */
export async function stopRecords(dir: string, records: PidRecord[], graceMs = 15_000, log: (line: string) => void = () => undefined): Promise<string[]> {
  const leftovers: string[] = [];
  for (const record of records) {
    if (isOurs(record)) {
      process.kill(record.pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (isOurs(record) && Date.now() < deadline) await sleep(50);
      if (isOurs(record)) {
        log(`${record.name} (pid ${record.pid}) did not stop in ${graceMs / 1000} s: SIGKILL`);
        process.kill(record.pid, 'SIGKILL');
        await sleep(200);
      }
      if (isOurs(record)) leftovers.push(`${record.name} (pid ${record.pid})`);
      else log(`stopped ${record.name} (pid ${record.pid})`);
    }
    fs.rmSync(path.join(dir, 'pids', `${record.name}.json`), { force: true });
  }
  return leftovers;
}

/** Polls url until check(status, body) holds; fails early when the process that should answer exits. */
export async function waitForHttp(url: string, options: { timeoutMs: number; process?: PidRecord; check?: (status: number, body: string) => boolean; headers?: Record<string, string> }): Promise<string> {
  const check = options.check ?? ((status) => status >= 200 && status < 300);
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (options.process && !isOurs(options.process)) throw new Error(`${options.process.name} exited while starting`);
    try {
      const res = await fetch(url, { headers: options.headers, signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (check(res.status, body)) return body;
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${options.timeoutMs / 1000} s (${last})`);
}

/** The preferred port when it is free on 127.0.0.1, else one the OS picks. */
export async function pickPort(preferred: number): Promise<number> {
  const tryListen = (port: number) => new Promise<number | undefined>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: got } = server.address() as net.AddressInfo;
      server.close(() => resolve(got));
    });
  });
  return (preferred > 0 ? await tryListen(preferred) : undefined) ?? (await tryListen(0))!;
}

export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
