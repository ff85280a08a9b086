import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import type { Clock } from './clock';
import type { ReceiverConfig } from './config/types';
import type { DockerController } from './docker/controller';
import { instrumentDocker } from './docker/instrumented-controller';
import { createAuthCheck } from './http/auth';
import type { AppContext } from './http/context';
import { appErrorHandler } from './http/error-handler';
import { healthRouter } from './http/health-route';
import { preloadsRouter } from './http/preloads-route';
import { targetsRouter } from './http/targets-route';
import { WEBHOOK_PATH, webhookHandlers, webhookRejecter } from './http/webhook-route';
import { AlertIntake } from './intake/alert-intake';
import { TargetManager } from './lifecycle/manager';
import type { Logger } from './logger';
import { createMetrics, type ReceiverMetrics } from './metrics';
import { initialiseSeries } from './metrics-initial-series';

export interface AppDeps {
  config: ReceiverConfig;
  /** The app registers its metrics here (never prom-client's global registry). */
  registry: Registry;
  docker: DockerController;
  logger: Logger;
  clock: Clock;
  /** The shared secret (AI_DISPATCHER_TOKEN); required unless config.auth.disabled. */
  token?: string;
  /** Log and count what would be done; never start or stop anything. */
  dryRun?: boolean;
  /** For ai_dispatcher_build_info. */
  version?: string;
  /** Also export process_* and nodejs_* metrics (main turns this on; tests leave it off). */
  processMetrics?: boolean;
}

export interface ReceiverApp {
  app: Express;
  manager: TargetManager;
  metrics: ReceiverMetrics;
  /** Reads every target's real state from Docker once, then every refresh interval. */
  start(): Promise<void>;
  /** Stops taking work (503 from then on), abandons waits, lets Docker calls in flight finish (bounded). */
  close(): Promise<void>;
}

export function createApp(deps: AppDeps): ReceiverApp {
  const { config, logger, clock } = deps;
  if (!config.auth.disabled && !deps.token) {
    throw new Error('auth is enabled but no token was given (AI_DISPATCHER_TOKEN or AI_DISPATCHER_TOKEN_FILE)');
  }
  // The cooldown gauge is computed at scrape time from the manager, which itself needs the metrics.
  let cooldowns: () => Array<{ target: string; seconds: number }> = () => [];
  const metrics = createMetrics(deps.registry, {
    version: deps.version ?? 'unknown',
    processMetrics: deps.processMetrics,
    cooldownRemaining: () => cooldowns(),
  });
  const docker = instrumentDocker(deps.docker, metrics);
  const dryRun = deps.dryRun ?? false;
  const manager = new TargetManager({ config, docker, logger, clock, metrics, dryRun });
  cooldowns = () => manager.cooldowns();
  initialiseSeries(metrics, manager.names());

  let draining = false;
  const ctx: AppContext = {
    config,
    docker,
    manager,
    logger,
    clock,
    metrics,
    dryRun,
    intake: new AlertIntake({ config, manager, docker, logger, clock, metrics, dryRun }),
    authCheck: config.auth.disabled ? undefined : createAuthCheck({ token: deps.token as string, basicUsername: config.auth.basicUsername }),
    draining: () => draining,
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // The webhook is the hot path: registered first, on the app itself, so that its requests match the first layer.
  const rejectWebhook = webhookRejecter(ctx);
  app.post(WEBHOOK_PATH, ...webhookHandlers(ctx, rejectWebhook));
  app.use(healthRouter(ctx, deps.registry));
  app.use(preloadsRouter(ctx));
  app.use(targetsRouter(ctx));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(appErrorHandler(logger, rejectWebhook));

  let timer: NodeJS.Timeout | undefined;
  return {
    app,
    manager,
    metrics,
    async start() {
      await manager.refresh();
      timer = setInterval(() => void manager.refresh(), config.refreshIntervalSeconds * 1000);
      timer.unref();
    },
    async close() {
      draining = true;
      clearInterval(timer);
      await manager.close(config.shutdownTimeoutSeconds * 1000);
    },
  };
}
