import fs from 'node:fs';

/** A token file is a few dozen bytes; more is not a token file (a log, a device, a mistake). */
export const MAX_TOKEN_FILE_BYTES = 4096;

export interface TokenResult {
  token?: string;
  errors: string[];
  /** Problems that do not stop the start (a token file every user on the host can read). */
  warnings: string[];
}

/**
 * The shared secret: AI_DISPATCHER_TOKEN, or the content of the file named by AI_DISPATCHER_TOKEN_FILE
 * (one trailing newline removed). Returns undefined when auth is disabled and neither is set.
 */
export function readToken(env: NodeJS.ProcessEnv, authDisabled: boolean): TokenResult {
  const direct = env.AI_DISPATCHER_TOKEN;
  const file = env.AI_DISPATCHER_TOKEN_FILE;
  const warnings: string[] = [];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    return { errors: ['set either AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE, not both'], warnings };
  }
  let token = direct;
  if (file !== undefined && file !== '') {
    const read = readTokenFile(file);
    if ('error' in read) return { errors: [`AI_DISPATCHER_TOKEN_FILE: ${read.error}`], warnings };
    token = read.text.replace(/\r?\n$/, '');
    if (read.worldReadable) {
      warnings.push(`AI_DISPATCHER_TOKEN_FILE ${file} can be read by every user of the host (mode ${read.mode}): chmod 0640 or 0600`);
    }
  }
  if (token === undefined || token === '') {
    if (authDisabled) return { errors: [], warnings };
    return { errors: ['auth is enabled but no token is set: set AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE (or auth: {disabled: true})'], warnings };
  }
  const from = file !== undefined && file !== '' ? `AI_DISPATCHER_TOKEN_FILE (${file})` : 'AI_DISPATCHER_TOKEN';
  if (/\s/.test(token)) return { errors: [`${from}: the token must not contain whitespace`], warnings };
  if (token.length < 16) return { errors: [`${from}: the token is too short: use at least 16 characters`], warnings };
  return { token, errors: [], warnings };
}

/**
 * A regular file of at most MAX_TOKEN_FILE_BYTES. Opened non-blocking (a FIFO without a writer cannot hold
 * the start) and checked on the open descriptor, then read with a bounded buffer (/dev/zero cannot either).
 */
function readTokenFile(file: string): { text: string; worldReadable: boolean; mode: string } | { error: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    return { error: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { error: `${file} is not a regular file` };
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = fs.readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
    if (length > MAX_TOKEN_FILE_BYTES) return { error: `${file} is larger than ${MAX_TOKEN_FILE_BYTES} bytes: not a token file` };
    return { text: buffer.toString('utf8', 0, length), worldReadable: (stat.mode & 0o004) !== 0, mode: `0${(stat.mode & 0o777).toString(8)}` };
  } catch (err) {
    return { error: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  } finally {
    fs.closeSync(fd);
  }
}
