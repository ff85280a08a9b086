import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Clock } from '../clock';
import type { LogFields, Logger } from '../logger';

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

/** How often a flood of rejected requests may write a log line; the metrics count every one. */
export const REJECTED_LOG_INTERVAL_MS = 10_000;

/**
 * A warn line for the first rejected request, then at most one per interval, carrying how many were not
 * logged since the previous line (`suppressed`): thousands of 401s a second make a line every 10 s.
 */
export function sampledWarn(logger: Logger, clock: Clock, msg: string, intervalMs = REJECTED_LOG_INTERVAL_MS): (fields: LogFields) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields) => {
    const now = clock.now();
    if (now - last < intervalMs) {
      suppressed += 1;
      return;
    }
    logger.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
    last = now;
    suppressed = 0;
  };
}

/**
 * Express middleware; onRejected counts and logs the 401 (sampledWarn). The connection is closed after a 401:
 * a client guessing credentials reconnects for every guess instead of holding a keep-alive slot.
 */
export function requireAuth(check: ((header: string | undefined) => boolean) | undefined, onRejected?: () => void): RequestHandler {
  return (req, res, next) => {
    if (check === undefined || check(req.headers.authorization)) {
      next();
      return;
    }
    onRejected?.();
    res
      .status(401)
      .set('Connection', 'close')
      .set('WWW-Authenticate', 'Bearer realm="ai-dispatcher", Basic realm="ai-dispatcher"')
      .json({ error: 'unauthorized', message: 'missing or wrong credentials' });
  };
}
