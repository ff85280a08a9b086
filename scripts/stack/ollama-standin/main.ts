/**
 * The Ollama stand-in as a process (the local stack, the benchmark, a container):
 *
 *   node --import tsx scripts/stack/ollama-standin/main.ts [--listen HOST:PORT] [--models JSON]
 *     [--tokens-per-second N] [--load-ms N] [--answer-tokens N] [--num-parallel N] [--max-queue N] [--keep-alive D]
 *
 * Like Ollama it also reads OLLAMA_HOST, OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE and OLLAMA_KEEP_ALIVE
 * (flags win). Stops on SIGTERM/SIGINT.
 */
import type { AddressInfo } from 'node:net';
import { createOllamaStandIn, type StandInOptions } from './server';
import type { InstalledModel } from './model-state';

export function parseStandInArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { host: string; port: number; options: StandInOptions } {
  let listen = env.OLLAMA_HOST || '127.0.0.1:11434';
  const timing: NonNullable<StandInOptions['timing']> = {};
  const options: StandInOptions = { timing };
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name}: "${v}" must be a number >= ${min}`);
    return n;
  };
  if (env.OLLAMA_NUM_PARALLEL) options.numParallel = int('OLLAMA_NUM_PARALLEL', env.OLLAMA_NUM_PARALLEL, 1);
  if (env.OLLAMA_MAX_QUEUE) options.maxQueue = int('OLLAMA_MAX_QUEUE', env.OLLAMA_MAX_QUEUE, 0);
  if (env.OLLAMA_KEEP_ALIVE) options.keepAlive = env.OLLAMA_KEEP_ALIVE;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--listen') listen = value();
    else if (flag === '--models') options.models = JSON.parse(value()) as InstalledModel[];
    else if (flag === '--tokens-per-second') timing.tokensPerSecond = int(flag, value(), 0.001);
    else if (flag === '--load-ms') timing.loadMs = int(flag, value(), 0);
    else if (flag === '--answer-tokens') timing.answerTokens = int(flag, value(), 1);
    else if (flag === '--num-parallel') options.numParallel = int(flag, value(), 1);
    else if (flag === '--max-queue') options.maxQueue = int(flag, value(), 0);
    else if (flag === '--keep-alive') options.keepAlive = value();
    else throw new Error(`unknown argument ${flag} (see scripts/stack/ollama-standin/main.ts)`);
  }
  const withScheme = listen.includes('://') ? listen : `http://${listen}`;
  const url = new URL(withScheme);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Ollama answers any Host when it listens on all interfaces, and only local ones on loopback.
  options.checkHost = !(host === '0.0.0.0' || host === '::');
  return { host, port: url.port === '' ? 11434 : Number(url.port), options };
}

function main(): void {
  const { host, port, options } = parseStandInArgs(process.argv.slice(2));
  const standIn = createOllamaStandIn(options);
  standIn.server.listen(port, host, () => {
    const address = standIn.server.address() as AddressInfo;
    console.log(JSON.stringify({ msg: 'ollama stand-in listening', url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` }));
  });
  const stop = () => void standIn.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
}
