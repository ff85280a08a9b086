import { createJsonLogger, processLogger } from '../../receiver/src/logger';

describe('createJsonLogger', () => {
  test('one JSON object per line with time, level, msg and fields; below the level is dropped', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ level: 'info', write: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('action finished', { target: 'ollama', error: new Error('boom') });
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'info',
      msg: 'action finished',
      target: 'ollama',
      error: { name: 'Error', message: 'boom' },
    });
  });

  test('secrets are redacted, also where JSON escaping changed their spelling', () => {
    const lines: string[] = [];
    const secret = 'to"k\\en-0123456789';
    const log = createJsonLogger({ write: (l) => lines.push(l), secrets: [secret] });
    log.warn(`header was Bearer ${secret}`, { nested: { value: secret } });
    expect(lines.join('')).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'header was Bearer [redacted]', nested: { value: '[redacted]' } });
  });
});

describe('processLogger (receiver and gateway processes)', () => {
  const levels = (env: NodeJS.ProcessEnv) => {
    const lines: string[] = [];
    const log = processLogger(env, { write: (l) => lines.push(l), token: 'sekrit-token' });
    log.debug('d sekrit-token');
    log.info('i');
    log.warn('w');
    return lines.map((l) => JSON.parse(l) as { level: string; msg: string });
  };

  test('takes its level from AI_DISPATCHER_LOG_LEVEL, info when unset or unknown, and redacts the token', () => {
    expect(levels({ AI_DISPATCHER_LOG_LEVEL: 'debug' })).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'd [redacted]' }),
      expect.objectContaining({ level: 'info' }),
      expect.objectContaining({ level: 'warn' }),
    ]);
    expect(levels({ AI_DISPATCHER_LOG_LEVEL: 'warn' }).map((l) => l.level)).toEqual(['warn']);
    expect(levels({}).map((l) => l.level)).toEqual(['info', 'warn']);
    expect(levels({ AI_DISPATCHER_LOG_LEVEL: 'verbose' }).map((l) => l.level)).toEqual(['info', 'warn']);
  });
});
