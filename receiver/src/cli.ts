#!/usr/bin/env -S node --max-semi-space-size=4 --single-threaded-gc
import { parseArgs } from 'node:util';
import { packageVersion, runReceiver } from './main';

const USAGE = `Usage: ai-dispatcher receiver --config FILE [--listen HOST:PORT] [--dry-run]

Runs the Alertmanager webhook receiver that starts and stops the configured AI containers.
  --config FILE         YAML configuration (see receiver/config.example.yml)
  --listen HOST:PORT    bind address; overrides the file's "listen"
  --dry-run             log and count what would be done; never start or stop anything

Environment: AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE (the shared secret), DOCKER_HOST,
AI_DISPATCHER_LOG_LEVEL (debug, info, warn, error).`;

export interface CliCommand {
  command: 'receiver';
  config: string;
  listen?: string;
  dryRun: boolean;
}

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
  if (positionals.length !== 1 || positionals[0] !== 'receiver') {
    throw new Error(positionals.length === 0 ? 'missing command' : `unknown command "${positionals.join(' ')}"`);
  }
  if (values.config === undefined || values.config === '') throw new Error('--config FILE is required');
  return { command: 'receiver', config: values.config, listen: values.listen, dryRun: values['dry-run'] ?? false };
}

async function cli(argv: string[]): Promise<number> {
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
  if (parsed === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  return runReceiver({ configPath: parsed.config, listen: parsed.listen, dryRun: parsed.dryRun });
}

if (require.main === module) {
  void cli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
