import type { Pool as UndiciPool } from 'undici';

/**
 * undici's connection pool, loaded without the rest of the package: undici's index also loads fetch, WebSocket,
 * caches and mocks, which the gateway never uses (over a bare Node process, the index adds 18.7 MB of RSS, the
 * pool alone 13.1 MB). It is the class the index exports (test/gateway/units.test.ts checks).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Pool = require('undici/lib/dispatcher/pool') as typeof UndiciPool;
export type Pool = UndiciPool;
