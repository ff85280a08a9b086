#!/usr/bin/env -S node --max-semi-space-size=4 --single-threaded-gc --no-memory-reducer
import { parseArgs } from 'node:util';

const USAGE = `Usage: ai-dispatcher receiver --config FILE [--listen HOST:PORT] [--dry-run]
       ai-dispatcher socket-proxy-allowlist --config FILE

Runs the Alertmanager webhook receiver that starts and stops the configured AI containers.
(ai-dispatcher report --help: the savings and tuning report read from Prometheus.)
(ai-dispatcher gateway --help: the Ollama gateway, a proxy with a queue, metrics and wake on request.)
  --config FILE         YAML configuration (see receiver/config.example.yml)
  --listen HOST:PORT    bind address; overrides the file's "listen"
  --dry-run             log and count what would be done; never start or stop anything

socket-proxy-allowlist prints the socket proxy's SP_ALLOW_* lines for the config's targets (for the
docker-socket-proxy service of docker-compose.override.yml).

Environment: AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE (the shared secret), DOCKER_HOST,
AI_DISPATCHER_LOG_LEVEL (debug, info, warn, error).`;

export type CliCommand =
  | { command: 'receiver'; config: string; listen?: string; dryRun: boolean }
  | { command: 'socket-proxy-allowlist'; config: string };

/** Parses argv (without node and the script); throws an Error with a message for the user. */
export function parseCli(argv: string[]): CliCommand | 'help' | 'version' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      listen: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (positionals.length !== 1 || (positionals[0] !== 'receiver' && positionals[0] !== 'socket-proxy-allowlist')) {
    throw new Error(positionals.length === 0 ? 'missing command' : `unknown command "${positionals.join(' ')}"`);
  }
  if (values.config === undefined || values.config === '') throw new Error('--config FILE is required');
  if (positionals[0] === 'socket-proxy-allowlist') return { command: 'socket-proxy-allowlist', config: values.config };
  return { command: 'receiver', config: values.config, listen: values.listen, dryRun: values['dry-run'] ?? false };
}

async function cli(argv: string[]): Promise<number> {
  // Each command loads only its own modules: the gateway does not keep the receiver's (Express, dockerode) in memory.
  if (argv[0] === 'report') return (await import('./report/report-cli')).runReportCli(argv.slice(1));
  if (argv[0] === 'gateway') return (await import('./gateway/gateway-cli')).runGatewayCli(argv.slice(1));
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    process.stderr.write(`ai-dispatcher: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { packageVersion, runReceiver } = await import('./main');
  if (parsed === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (parsed.command === 'socket-proxy-allowlist') return printAllowlist(parsed.config);
  return runReceiver({ configPath: parsed.config, listen: parsed.listen, dryRun: parsed.dryRun });
}

async function printAllowlist(configPath: string): Promise<number> {
  const { loadConfigFile } = await import('./config/load');
  const { socketProxyAllowlist } = await import('./docker/socket-proxy-allowlist');
  try {
    const list = socketProxyAllowlist(loadConfigFile(configPath).targets);
    for (const [key, value] of Object.entries(list)) process.stdout.write(`      ${key}: '${value}'\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`ai-dispatcher: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void cli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
