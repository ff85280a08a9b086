import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import './docker/skip-buildkit';
import { createApp, type ReceiverApp } from './app';
import { systemClock } from './clock';
import { ConfigError } from './config/config-error';
import { loadConfigFile, parseListen } from './config/load';
import { ownContainerProblems, proxyTargetProblems, containerIdFrom } from './config/self-targets';
import { StartupError } from './config/startup-error';
import type { ReceiverConfig } from './config/types';
import { createDockerodeController, parseDockerHost, type DockerodeControllerOptions } from './docker/dockerode-controller';
import { processLogger } from './logger';
import { createLimitedServer } from './http/server-limits';
import { gracefulStop, listenOn, runUntilSignal, type RunningServer } from './serve';
import { readToken } from './token';

export interface ReceiverOptions {
  configPath: string;
  /** HOST:PORT; wins over the config file's `listen`. */
  listen?: string;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where log lines go (stdout by default). */
  write?: (line: string) => void;
  /** The container this process runs in (null: none); read from /proc/self when not given. */
  ownContainerId?: string | null;
}

export interface RunningReceiver extends RunningServer {
  receiver: ReceiverApp;
}

/** Reads the environment and the config file, connects the parts, reads Docker's state and listens. */
export async function startReceiver(options: ReceiverOptions): Promise<RunningReceiver> {
  const env = options.env ?? process.env;
  // Every problem at once, each under its source: the config file, the command line, the environment.
  const problems = { config: [] as string[], listen: [] as string[], env: [] as string[] };
  let config: ReceiverConfig | undefined;
  let authDisabled: boolean | undefined;
  try {
    config = loadConfigFile(options.configPath);
    authDisabled = config.auth.disabled;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.config.push(...err.errors);
    authDisabled = err.authDisabled;
  }
  const listen = options.listen === undefined ? undefined : parseListen(options.listen);
  if (options.listen !== undefined && listen === undefined) problems.listen.push(`"${options.listen}" is not HOST:PORT`);
  // A file that could not be read or parsed may disable auth: then only a token that is set is checked.
  const { token, errors: tokenErrors, warnings: tokenWarnings } = readToken(env, authDisabled ?? true);
  problems.env.push(...tokenErrors);
  let dockerOptions: DockerodeControllerOptions = {};
  if (config !== undefined) {
    try {
      dockerOptions = dockerConnection(config, env);
    } catch (err) {
      (err instanceof DockerHostError && err.fromEnvironment ? problems.env : problems.config).push((err as Error).message);
    }
  }
  const reported = [
    { source: `configuration file ${options.configPath}`, errors: problems.config },
    { source: '--listen', errors: problems.listen },
    { source: 'environment', errors: problems.env },
  ].filter((p) => p.errors.length > 0);
  if (reported.length > 0 || config === undefined) throw new StartupError(reported);
  if (listen !== undefined) config.listen = listen;

  const docker = createDockerodeController(dockerOptions);
  // Never a target that is this receiver or the proxy it reaches Docker through (config load checks docker.host).
  const selfProblems = config.docker.host === undefined && config.docker.socketPath === undefined ? proxyTargetProblems(config.targets.values(), env.DOCKER_HOST) : [];
  const ownId = options.ownContainerId !== undefined ? options.ownContainerId : readOwnContainerId();
  if (ownId) {
    const refs = [...config.targets.values()].flatMap((t) => t.members).filter((ref) => ref.kind !== 'swarm');
    const states = new Map(await Promise.all(refs.map(async (ref) => [ref, await docker.inspect(ref).catch(() => undefined)] as const)));
    selfProblems.push(...ownContainerProblems(config.targets.values(), ownId, states));
  }
  if (selfProblems.length > 0) throw new StartupError([{ source: `configuration file ${options.configPath}`, errors: selfProblems }]);

  const logger = processLogger(env, { write: options.write, token });
  const dryRun = options.dryRun ?? false;
  const receiver = createApp({
    config,
    registry: new Registry(),
    docker,
    logger,
    clock: systemClock,
    token,
    dryRun,
    version: packageVersion(),
    processMetrics: true,
  });
  for (const warning of tokenWarnings) logger.warn(warning);
  if (config.auth.disabled) {
    logger.warn('authentication is disabled by configuration: anyone who can reach the port can start and stop the targets');
  }
  if (dryRun) logger.warn('dry-run: decisions are logged and counted, nothing is started or stopped');

  await receiver.start();
  const server = createLimitedServer(receiver.app);
  const url = await listenOn(server, config.listen);
  logger.info('receiver listening', {
    url,
    dry_run: dryRun,
    auth: config.auth.disabled ? 'disabled' : 'bearer or basic',
    docker: dockerOptions.socketPath ?? `${dockerOptions.protocol ?? 'http'}://${dockerOptions.host}:${dockerOptions.port}`,
    targets: [...config.targets.keys()],
  });

  const stop = gracefulStop(server, () => receiver.close(), () => logger.info('receiver stopped'));
  return { url, server, receiver, logger, stop };
}

/** The CLI's `receiver` command: runs until SIGTERM or SIGINT, then shuts down cleanly. Returns the exit code. */
export function runReceiver(options: ReceiverOptions): Promise<number> {
  return runUntilSignal(() => startReceiver(options));
}

class DockerHostError extends Error {
  constructor(message: string, readonly fromEnvironment: boolean) {
    super(message);
  }
}

function dockerConnection(config: ReceiverConfig, env: NodeJS.ProcessEnv): DockerodeControllerOptions {
  const timeoutMs = config.docker.timeoutSeconds * 1000;
  const parse = (value: string, where: string, fromEnvironment: boolean) => {
    try {
      return parseDockerHost(value);
    } catch (err) {
      throw new DockerHostError(`${where}: ${(err as Error).message}`, fromEnvironment);
    }
  };
  if (config.docker.host !== undefined) return { ...parse(config.docker.host, '/docker/host', false), timeoutMs };
  if (config.docker.socketPath !== undefined) return { socketPath: config.docker.socketPath, timeoutMs };
  if (env.DOCKER_HOST) return { ...parse(env.DOCKER_HOST, 'DOCKER_HOST', true), timeoutMs };
  return { socketPath: '/var/run/docker.sock', timeoutMs };
}

function readOwnContainerId(): string | null {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return containerIdFrom(read('/proc/self/mountinfo'), read('/proc/self/cgroup')) ?? null;
}

/** The version in the package.json above this file (source tree or dist/). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ai-dispatcher') return pkg.version ?? 'unknown';
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
