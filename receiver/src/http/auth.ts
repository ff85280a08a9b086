import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export interface Credentials {
  token: string;
  /** When set, basic auth must use this user name. */
  basicUsername?: string;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant time: both sides are hashed to the same length before the comparison. */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** Accepts `Authorization: Bearer TOKEN` or basic auth whose password is TOKEN. */
export function createAuthCheck(credentials: Credentials): (header: string | undefined) => boolean {
  const token = digest(credentials.token);
  const user = credentials.basicUsername === undefined ? undefined : digest(credentials.basicUsername);
  return (header) => {
    if (header === undefined) return false;
    const space = header.indexOf(' ');
    if (space <= 0) return false;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') return sameSecret(value, token);
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      const userOk = user === undefined || sameSecret(decoded.slice(0, colon), user);
      const passOk = sameSecret(decoded.slice(colon + 1), token);
      return userOk && passOk;
    }
    return false;
  };
}

/** Express middleware; onRejected lets the webhook count its 401s. */
export function requireAuth(check: ((header: string | undefined) => boolean) | undefined, onRejected?: () => void): RequestHandler {
  return (req, res, next) => {
    if (check === undefined || check(req.headers.authorization)) {
      next();
      return;
    }
    onRejected?.();
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="ai-dispatcher", Basic realm="ai-dispatcher"')
      .json({ error: 'unauthorized', message: 'missing or wrong credentials' });
  };
}
