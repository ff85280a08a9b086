import { Router } from 'express';
import type { Registry } from 'prom-client';
import { sampledWarn } from './auth';
import type { AppContext } from './context';

/**
 * /readyz's Docker ping is reused for this long, and requests in between share one ping: the endpoint needs
 * no credentials, so its rate must not become the Docker engine's.
 */
export const READY_PROBE_CACHE_MS = 250;

/** /healthz (alive), /readyz (config loaded and Docker reachable), /metrics. No credentials needed. */
export function healthRouter(ctx: AppContext, registry: Registry): Router {
  const router = Router();
  const unreachableLog = sampledWarn(ctx.logger, ctx.clock, 'readiness: Docker unreachable');
  let probe: { at: number; result: Promise<boolean> } | undefined;
  // The engine's own error text stays in the log: unauthenticated callers get a generic word.
  const dockerReachable = (): Promise<boolean> => {
    const now = ctx.clock.now();
    if (probe === undefined || now - probe.at >= READY_PROBE_CACHE_MS) {
      probe = {
        at: now,
        result: ctx.docker.ping().then(
          () => true,
          (err: unknown) => {
            unreachableLog({ error: err instanceof Error ? err.message : String(err) });
            return false;
          },
        ),
      };
    }
    return probe.result;
  };

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    if (ctx.draining()) {
      res.status(503).json({ ready: false, config: 'loaded', docker: 'not checked', message: 'shutting down' });
      return;
    }
    const docker = (await dockerReachable()) ? 'reachable' : 'unreachable';
    // A dry run touches nothing, so it can do its job without the engine.
    const ready = docker === 'reachable' || ctx.dryRun;
    res.status(ready ? 200 : 503).json({ ready, config: 'loaded', docker, dryRun: ctx.dryRun });
  });

  router.get('/metrics', async (_req, res) => {
    const text = await registry.metrics();
    res.set('Content-Type', registry.contentType).send(text);
  });
  return router;
}
