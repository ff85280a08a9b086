import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { ConfigError, parseListen } from '../config/load';
import { createJsonLogger, type LogLevel, type Logger } from '../logger';
import { readToken } from '../token';
import { createGatewayApp, type GatewayApp } from './app';
import { loadGatewayConfigFile } from './config';

export interface GatewayOptions {
  configPath: string;
  /** HOST:PORT; wins over the config file's `listen`. */
  listen?: string;
  env?: NodeJS.ProcessEnv;
  write?: (line: string) => void;
}

export interface RunningGateway {
  url: string;
  server: http.Server;
  gateway: GatewayApp;
  logger: Logger;
  stop(): Promise<void>;
}

/** Reads the environment and the config file, connects the parts and listens. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const config = loadGatewayConfigFile(options.configPath);
  if (options.listen !== undefined) {
    const listen = parseListen(options.listen);
    if (listen === undefined) throw new ConfigError(options.configPath, [`--listen: "${options.listen}" is not HOST:PORT`]);
    config.listen = listen;
  }
  // The token is needed only to wake Ollama through the receiver.
  const { token, errors } = readToken(env, config.wake === undefined);
  if (config.wake && errors.length > 0) throw new ConfigError(options.configPath, errors.map((e) => `wake: ${e}`));
  const level = env.AI_DISPATCHER_LOG_LEVEL;
  const logger = createJsonLogger({
    level: level === 'debug' || level === 'warn' || level === 'error' ? (level as LogLevel) : 'info',
    write: options.write,
    secrets: token ? [token] : [],
  });
  const gateway = createGatewayApp({ config, registry: new Registry(), logger, token, processMetrics: true });
  const server = http.createServer({
    headersTimeout: config.limits.headerTimeoutMs,
    // Node checks the header timeout every connectionsCheckingInterval (30 s by default).
    connectionsCheckingInterval: Math.min(1000, config.limits.headerTimeoutMs / 2),
    requestTimeout: 0,
    keepAliveTimeout: 65_000,
  }, gateway.handle);
  // Idle keep-alive connections and slow header senders are cut; long streamed answers are not.
  server.setTimeout(0);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  gateway.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info('gateway listening', {
    url, upstream: config.upstream.url.origin, max_concurrent: config.admission.maxConcurrent, max_queue: config.admission.maxQueue,
    wake: config.wake ? `${config.wake.receiverUrl} target ${config.wake.target}` : 'off',
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await gateway.close();
      server.closeAllConnections();
      await closed;
      logger.info('gateway stopped');
    })();
    return stopping;
  };
  return { url, server, gateway, logger, stop };
}

/** The CLI's `gateway` command: runs until SIGTERM or SIGINT. Returns the exit code. */
export async function runGateway(options: GatewayOptions): Promise<number> {
  let running: RunningGateway;
  try {
    running = await startGateway(options);
  } catch (err) {
    process.stderr.write(`ai-dispatcher: ${(err as Error).message}\n`);
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  running.logger.info('shutting down', { signal });
  process.once('SIGTERM', () => process.exit(1));
  process.once('SIGINT', () => process.exit(1));
  await running.stop();
  return 0;
}
