import http from 'node:http';
import { Registry } from 'prom-client';
import { ConfigError } from '../config/config-error';
import { parseListen } from '../config/load';
import { processLogger } from '../logger';
import { gracefulStop, listenOn, runUntilSignal, type RunningServer } from '../serve';
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

export interface RunningGateway extends RunningServer {
  gateway: GatewayApp;
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
  const logger = processLogger(env, { write: options.write, token });
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
  const url = await listenOn(server, config.listen);
  gateway.start();
  logger.info('gateway listening', {
    url, upstream: config.upstream.url.origin, max_concurrent: config.admission.maxConcurrent, max_queue: config.admission.maxQueue,
    wake: config.wake ? `${config.wake.receiverUrl} target ${config.wake.target}` : 'off',
  });
  const stop = gracefulStop(server, () => gateway.close(), () => logger.info('gateway stopped'));
  return { url, server, gateway, logger, stop };
}

/** The CLI's `gateway` command: runs until SIGTERM or SIGINT. Returns the exit code. */
export function runGateway(options: GatewayOptions): Promise<number> {
  return runUntilSignal(() => startGateway(options));
}
