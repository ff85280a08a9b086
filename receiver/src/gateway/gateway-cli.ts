import { parseArgs } from 'node:util';
import { runGateway } from './main';

export const GATEWAY_USAGE = `Usage: ai-dispatcher gateway [--config FILE] [--listen HOST:PORT]

Runs the Ollama gateway: a transparent proxy for Ollama's API with a queue, Prometheus metrics on
/metrics and wake on request (receiver/README.md, section "Gateway").
  --config FILE         YAML configuration (see receiver/gateway.example.yml); without it, the defaults
  --listen HOST:PORT    bind address; overrides the file's "listen"

Environment: AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE (the receiver's token, needed with wake),
AI_DISPATCHER_LOG_LEVEL (debug, info, warn, error).`;

/** `ai-dispatcher gateway ...` (argv after the command). Returns the exit code. */
export async function runGatewayCli(argv: string[]): Promise<number> {
  let values: { config?: string; listen?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, listen: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (err) {
    process.stderr.write(`ai-dispatcher gateway: ${(err as Error).message}\n\n${GATEWAY_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${GATEWAY_USAGE}\n`);
    return 0;
  }
  return runGateway({ configPath: values.config ?? '/dev/null', listen: values.listen });
}
