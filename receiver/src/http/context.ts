import type { Clock } from '../clock';
import type { ReceiverConfig } from '../config/types';
import type { DockerController } from '../docker/controller';
import type { TargetManager } from '../lifecycle/manager';
import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';
import type { DedupeWindow } from '../webhook/dedupe';

/** What the route handlers share; built once by createApp. */
export interface AppContext {
  config: ReceiverConfig;
  docker: DockerController;
  manager: TargetManager;
  logger: Logger;
  clock: Clock;
  metrics: ReceiverMetrics;
  dryRun: boolean;
  dedupe: DedupeWindow;
  /** Ignored alerts are counted every time but logged once per window. */
  ignoredLog: DedupeWindow;
  /** undefined when auth is disabled. */
  authCheck?: (header: string | undefined) => boolean;
  draining(): boolean;
}
