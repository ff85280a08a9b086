import fs from 'node:fs';

/**
 * The shared secret: AI_DISPATCHER_TOKEN, or the content of the file named by AI_DISPATCHER_TOKEN_FILE
 * (one trailing newline removed). Returns undefined when auth is disabled and neither is set.
 */
export function readToken(env: NodeJS.ProcessEnv, authDisabled: boolean): { token?: string; errors: string[] } {
  const direct = env.AI_DISPATCHER_TOKEN;
  const file = env.AI_DISPATCHER_TOKEN_FILE;
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    return { errors: ['set either AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE, not both'] };
  }
  let token = direct;
  if (file !== undefined && file !== '') {
    try {
      token = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      return { errors: [`AI_DISPATCHER_TOKEN_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
    }
  }
  if (token === undefined || token === '') {
    if (authDisabled) return { errors: [] };
    return { errors: ['auth is enabled but no token is set: set AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE (or auth: {disabled: true})'] };
  }
  const from = file !== undefined && file !== '' ? `AI_DISPATCHER_TOKEN_FILE (${file})` : 'AI_DISPATCHER_TOKEN';
  if (/\s/.test(token)) return { errors: [`${from}: the token must not contain whitespace`] };
  if (token.length < 16) return { errors: [`${from}: the token is too short: use at least 16 characters`] };
  return { token, errors: [] };
}
