import net from 'node:net';

// Below Linux's ephemeral range (32768-60999): a server that listens on port 0 in a parallel test never gets a
// port handed out here, so a port kept free on purpose (a "stopped" upstream) stays free.
const LOW = 20000;
const HIGH = 32767;
const handedOut = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now, outside the range the OS assigns to port 0, for the caller to bind. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free TCP port found in ${LOW}-${HIGH} on 127.0.0.1`);
}
