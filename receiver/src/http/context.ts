import type { Clock } from '../clock';
import type { ReceiverConfig } from '../config/types';
import type { DockerController } from '../docker/controller';
import type { AlertIntake } from '../intake/alert-intake';
import type { TargetManager } from '../lifecycle/manager';
import type { Logger } from '../logger';
import type { ReceiverMetrics } from '../metrics';

/** What the route handlers share; built once by createApp. */
export interface AppContext {
  config: ReceiverConfig;
  docker: DockerController;
  manager: TargetManager;
  logger: Logger;
  clock: Clock;
  metrics: ReceiverMetrics;
  dryRun: boolean;
  /** The webhook's intake policy: what a notification leads to. */
  intake: AlertIntake;
  /** undefined when auth is disabled. */
  authCheck?: (header: string | undefined) => boolean;
  draining(): boolean;
}
