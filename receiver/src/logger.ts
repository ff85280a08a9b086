export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where each line goes; stdout by default. */
  write?: (line: string) => void;
  /** Values that must never appear in a log line (the auth token): replaced by "[redacted]". */
  secrets?: string[];
}

/** One JSON object per line: time, level, msg, then the fields. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = rank[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  // A secret with quotes or backslashes appears JSON-escaped inside a line: look for both spellings.
  const secrets = [...new Set((options.secrets ?? []).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].filter(
    (s) => s.length > 0,
  );

  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (rank[level] < min) return;
    let line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replaceErrors);
    for (const secret of secrets) {
      if (line.includes(secret)) line = line.split(secret).join('[redacted]');
    }
    write(line + '\n');
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

/** A process's logger (receiver, gateway): level from AI_DISPATCHER_LOG_LEVEL (debug, info, warn, error; else info), the token redacted. */
export function processLogger(env: NodeJS.ProcessEnv, options: { write?: (line: string) => void; token?: string }): Logger {
  const level = env.AI_DISPATCHER_LOG_LEVEL;
  return createJsonLogger({
    level: level === 'debug' || level === 'warn' || level === 'error' ? level : 'info',
    write: options.write,
    secrets: options.token ? [options.token] : [],
  });
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
