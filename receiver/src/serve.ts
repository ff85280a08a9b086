import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger';

/** A started server process (receiver, gateway), as runUntilSignal runs it. */
export interface RunningServer {
  /** http://HOST:PORT the server listens on. */
  url: string;
  server: http.Server;
  logger: Logger;
  /** Stop taking work, finish or abandon what is in flight (bounded), close the server. */
  stop(): Promise<void>;
}

/** Listens on HOST:PORT; resolves with the URL clients use (the port the OS chose for port 0). */
export async function listenOn(server: http.Server, at: { host: string; port: number }): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * A stop that may be called any number of times and runs once: idle connections go at once, the app drains
 * (`close`), then the connections still open are cut.
 */
export function gracefulStop(server: http.Server, close: () => Promise<void>, stopped: () => void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await close();
      server.closeAllConnections();
      await closed;
      stopped();
    })();
    return stopping;
  };
}

/**
 * A CLI command's process: starts, runs until SIGTERM or SIGINT, then stops cleanly; a second signal while it
 * drains gives up on the work in flight. Returns the exit code (1 when it could not start).
 */
export async function runUntilSignal(start: () => Promise<Pick<RunningServer, 'logger' | 'stop'>>): Promise<number> {
  let running: Awaited<ReturnType<typeof start>>;
  try {
    running = await start();
  } catch (err) {
    process.stderr.write(`ai-dispatcher: ${(err as Error).message}\n`);
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  running.logger.info('shutting down', { signal });
  const force = () => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  await running.stop();
  return 0;
}
